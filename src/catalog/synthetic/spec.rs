//! The hardware of one offering ([`Spec`]): kind, CPU, memory, disks, GPUs, and its going rate.

use super::rng::Rng;
use super::tables::{Cpu, CPUS, GPUS};

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Kind {
    Vps,
    Dedicated,
    Gpu,
    Cloud,
    Managed,
}

const KINDS: &[(u64, Kind)] = &[
    (35, Kind::Vps),
    (30, Kind::Dedicated),
    (15, Kind::Gpu),
    (12, Kind::Cloud),
    (8, Kind::Managed),
];

/// The hardware of one offering.
pub(super) struct Spec {
    pub(super) kind: Kind,
    pub(super) cpu: &'static Cpu,
    pub(super) processors: u64,
    /// Cores per processor; vCPUs for virtual machines.
    pub(super) cores: u64,
    pub(super) memory_gb: u64,
    pub(super) ssd_count: u64,
    pub(super) ssd_each_gb: u64,
    pub(super) hdd_count: u64,
    pub(super) hdd_each_gb: u64,
    pub(super) gpu: Option<(&'static (&'static str, u64), u64)>,
}

impl Spec {
    pub(super) fn draw(rng: &mut Rng) -> Self {
        let kind = *rng.weighted(KINDS);
        let cpu = rng.pick(CPUS);
        let virtual_machine = matches!(kind, Kind::Vps | Kind::Cloud);
        let (processors, cores) = if virtual_machine {
            (1, *rng.pick(&[1, 2, 2, 4, 4, 8, 16, 32]))
        } else {
            (*rng.weighted(&[(70, 1), (27, 2), (3, 4)]), cpu.cores)
        };
        let memory_gb = if virtual_machine {
            cores * rng.pick(&[1, 2, 4])
        } else {
            *rng.pick(&[16, 32, 64, 128, 256, 512, 768, 1024])
        };
        let (ssd_count, ssd_each_gb) = if virtual_machine {
            (1, memory_gb * rng.pick(&[10, 20, 25]))
        } else if rng.percent(85) {
            (
                *rng.pick(&[1, 2, 2, 4]),
                *rng.pick(&[240, 480, 960, 1920, 3840]),
            )
        } else {
            (0, 0)
        };
        let (hdd_count, hdd_each_gb) = if !virtual_machine && (ssd_count == 0 || rng.percent(25)) {
            (*rng.pick(&[2, 4, 8]), *rng.pick(&[2000, 4000, 8000, 16000]))
        } else {
            (0, 0)
        };
        let gpu = (kind == Kind::Gpu).then(|| (rng.pick(GPUS), *rng.pick(&[1, 2, 4, 8])));
        Spec {
            kind,
            cpu,
            processors,
            cores,
            memory_gb,
            ssd_count,
            ssd_each_gb,
            hdd_count,
            hdd_each_gb,
            gpu,
        }
    }

    pub(super) fn virtual_machine(&self) -> bool {
        matches!(self.kind, Kind::Vps | Kind::Cloud)
    }

    /// A going monthly rate in US cents.
    pub(super) fn usd_cents(&self) -> u64 {
        let cores = self.processors * self.cores;
        let base = if self.virtual_machine() {
            200 + cores * 250 + self.memory_gb * 120 + self.ssd_each_gb * 2
        } else {
            3000 + cores * 150
                + self.memory_gb * 40
                + self.ssd_count * self.ssd_each_gb * 3
                + self.hdd_count * self.hdd_each_gb / 200
        };
        let gpus = self
            .gpu
            .map_or(0, |((_, card_usd), cards)| card_usd * 100 * cards);
        let management = if self.kind == Kind::Managed { 5000 } else { 0 };
        base + gpus + management
    }
}
