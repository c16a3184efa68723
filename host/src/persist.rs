//! Saving a host to a directory and loading it back, so a canister lives on between processes
//! the way a real one lives on between messages: module, heap, globals, stable memory, time, timer.

use crate::context::System;
use crate::host::Host;
use crate::instance::{Instance, Snapshot};
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::Path;
use wasmi::Val;

const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Meta {
    format: u32,
    sys: System,
    /// Mutable globals as (type, bits), in the instrumented export order.
    globals: Vec<(String, u64)>,
}

fn encode(value: &Val) -> Result<(String, u64), String> {
    Ok(match value {
        Val::I32(v) => ("i32".into(), *v as u32 as u64),
        Val::I64(v) => ("i64".into(), *v as u64),
        Val::F32(v) => ("f32".into(), u64::from(v.to_bits())),
        Val::F64(v) => ("f64".into(), v.to_bits()),
        other => return Err(format!("cannot save a global of type {:?}", other.ty())),
    })
}

fn decode((ty, bits): &(String, u64)) -> Result<Val, String> {
    Ok(match ty.as_str() {
        "i32" => Val::I32(*bits as u32 as i32),
        "i64" => Val::I64(*bits as i64),
        "f32" => Val::F32(wasmi::F32::from_bits(*bits as u32)),
        "f64" => Val::F64(wasmi::F64::from_bits(*bits)),
        other => return Err(format!("unknown global type {other}")),
    })
}

impl Host {
    /// Writes the canister's whole state to `dir`. Only an idle canister can be saved: a call
    /// awaiting an answer cannot outlive the process.
    pub fn save(&self, dir: &Path) -> Result<(), String> {
        let instance = self.instance.as_ref().ok_or("no canister is installed")?;
        if !self.is_idle() {
            return Err("the canister still has calls in flight".into());
        }
        let mut snapshot = Snapshot::default();
        instance.snapshot_into(&mut snapshot);
        let globals = snapshot
            .globals
            .iter()
            .map(encode)
            .collect::<Result<_, _>>()?;
        let meta = Meta {
            format: FORMAT,
            sys: self.sys.clone(),
            globals,
        };
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let write = |name: &str, bytes: &[u8]| {
            // Write then rename, so an interrupted save never leaves a torn state behind.
            let tmp = dir.join(format!("{name}.tmp"));
            fs::write(&tmp, bytes)
                .and_then(|_| fs::rename(&tmp, dir.join(name)))
                .map_err(|e| format!("cannot write {name}: {e}"))
        };
        write("module.wasm", &instance.original)?;
        write("heap.bin", &snapshot.memory)?;
        write("stable.bin", &self.stable)?;
        write(
            "state.json",
            serde_json::to_string_pretty(&meta)
                .map_err(|e| e.to_string())?
                .as_bytes(),
        )
    }

    /// Loads a canister saved with [`Host::save`].
    pub fn load(dir: &Path) -> Result<Host, String> {
        let read = |name: &str| {
            fs::read(dir.join(name))
                .map_err(|e| format!("cannot read {}: {e}", dir.join(name).display()))
        };
        let meta: Meta =
            serde_json::from_slice(&read("state.json")?).map_err(|e| format!("state.json: {e}"))?;
        if meta.format != FORMAT {
            return Err(format!(
                "state format {} is not supported (expected {FORMAT})",
                meta.format
            ));
        }
        let mut instance = Instance::new(&read("module.wasm")?)?;
        let snapshot = Snapshot {
            memory: read("heap.bin")?,
            globals: meta.globals.iter().map(decode).collect::<Result<_, _>>()?,
        };
        instance.restore(&snapshot)?;
        let mut host = Host::new();
        host.sys = meta.sys;
        host.stable = read("stable.bin")?;
        host.instance = Some(instance);
        Ok(host)
    }
}
