//! The offering enums as Candid variants, for filters and replies. Their explicit
//! discriminants are also the codes the index stores (and its snapshot keeps): never renumber.

use crate::catalog::offering;
use candid::{CandidType, Deserialize};

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProductType {
    Vps = 0,
    Dedicated = 1,
    Cloud = 2,
    Managed = 3,
}

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Virtualization {
    None = 0,
    Kvm = 1,
    Vmware = 2,
    Xen = 3,
    HyperV = 4,
    OpenVz = 5,
    Lxc = 6,
}

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BillingInterval {
    Hourly = 0,
    Daily = 1,
    Monthly = 2,
    Quarterly = 3,
    Yearly = 4,
}

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stock {
    InStock = 0,
    Limited = 1,
    OutOfStock = 2,
}

impl From<offering::ProductType> for ProductType {
    fn from(value: offering::ProductType) -> Self {
        use offering::ProductType as P;
        match value {
            P::Vps => Self::Vps,
            P::Dedicated => Self::Dedicated,
            P::Cloud => Self::Cloud,
            P::Managed => Self::Managed,
        }
    }
}

impl From<offering::Virtualization> for Virtualization {
    fn from(value: offering::Virtualization) -> Self {
        use offering::Virtualization as V;
        match value {
            V::None => Self::None,
            V::Kvm => Self::Kvm,
            V::Vmware => Self::Vmware,
            V::Xen => Self::Xen,
            V::HyperV => Self::HyperV,
            V::OpenVz => Self::OpenVz,
            V::Lxc => Self::Lxc,
        }
    }
}

impl From<offering::BillingInterval> for BillingInterval {
    fn from(value: offering::BillingInterval) -> Self {
        use offering::BillingInterval as B;
        match value {
            B::Hourly => Self::Hourly,
            B::Daily => Self::Daily,
            B::Monthly => Self::Monthly,
            B::Quarterly => Self::Quarterly,
            B::Yearly => Self::Yearly,
        }
    }
}

impl From<offering::Stock> for Stock {
    fn from(value: offering::Stock) -> Self {
        use offering::Stock as S;
        match value {
            S::InStock => Self::InStock,
            S::Limited => Self::Limited,
            S::OutOfStock => Self::OutOfStock,
        }
    }
}

/// `from_code`: the variant of a code the index stores, for replies built from its columns.
macro_rules! from_code {
    ($kind:ident: $($variant:ident),*) => {
        impl $kind {
            pub fn from_code(code: u8) -> Option<Self> {
                [$(Self::$variant),*].into_iter().find(|&kind| kind as u8 == code)
            }
        }
    };
}

from_code!(ProductType: Vps, Dedicated, Cloud, Managed);
from_code!(Virtualization: None, Kvm, Vmware, Xen, HyperV, OpenVz, Lxc);
from_code!(BillingInterval: Hourly, Daily, Monthly, Quarterly, Yearly);
from_code!(Stock: InStock, Limited, OutOfStock);
