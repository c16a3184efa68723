//! Stable-memory encoding of records as Candid: one implementation of `Storable` for them all.

/// Implements `Storable` for each type as its Candid encoding, of unbounded size.
///
/// Only this canister writes these records, so one that does not decode is corrupted state,
/// which no message should build on: decoding it traps.
macro_rules! candid_storable {
    ($($t:ty),* $(,)?) => {$(
        impl ic_stable_structures::Storable for $t {
            fn to_bytes(&self) -> std::borrow::Cow<'_, [u8]> {
                std::borrow::Cow::Owned(
                    candid::encode_one(self).expect(concat!("a ", stringify!($t), " always encodes")),
                )
            }

            fn into_bytes(self) -> Vec<u8> {
                candid::encode_one(&self).expect(concat!("a ", stringify!($t), " always encodes"))
            }

            fn from_bytes(bytes: std::borrow::Cow<[u8]>) -> Self {
                candid::decode_one(&bytes)
                    .expect(concat!("stored ", stringify!($t), " is not valid Candid"))
            }

            const BOUND: ic_stable_structures::storable::Bound =
                ic_stable_structures::storable::Bound::Unbounded;
        }
    )*};
}
pub(crate) use candid_storable;
