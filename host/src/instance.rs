//! One instantiated canister module: compile, instantiate, snapshot and restore, call entry points.

use crate::context::Ctx;
use crate::rewrite::{self, MEMORY_EXPORT, TABLE_EXPORT};
use std::io::Read;
use std::sync::{Arc, Mutex};
use wasmi::{
    CompilationMode, Config, Engine, Extern, Instance as WasmiInstance, Linker, Module, Ref, Store,
    Val,
};

/// The parts of a canister's state that live in its wasm instance.
#[derive(Clone, Debug, Default)]
pub(crate) struct Snapshot {
    pub memory: Vec<u8>,
    pub globals: Vec<Val>,
}

pub(crate) struct Instance {
    /// The module as installed (plain or gzipped): what the module hash is taken of, and what
    /// persistence saves.
    pub original: Vec<u8>,
    engine: Engine,
    module: Module,
    linker: Linker<Ctx>,
    pub store: Store<Ctx>,
    instance: WasmiInstance,
    globals: Vec<String>,
    has_table: bool,
    exports: Vec<String>,
}

/// A module instrumented and compiled: the costly part of an install, an upgrade or a load,
/// which depends on the module's bytes only.
struct Compiled {
    original: Vec<u8>,
    engine: Engine,
    module: Module,
    globals: Vec<String>,
    has_table: bool,
}

/// The modules compiled in this process, the most recent last. Tests and benchmarks install,
/// upgrade and load the same few modules again and again; each is instrumented and compiled
/// once. A compiled module holds no canister state (that lives in each instance's store).
static COMPILED: Mutex<Vec<Arc<Compiled>>> = Mutex::new(Vec::new());
/// How many compiled modules are kept (each is a few times its wasm's size).
const COMPILED_KEPT: usize = 6;

fn compiled(wasm: &[u8]) -> Result<Arc<Compiled>, String> {
    let cache = || {
        COMPILED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    };
    if let Some(hit) = cache().iter().find(|c| c.original == wasm) {
        return Ok(hit.clone());
    }
    let instrumented = rewrite::instrument(&unpack(wasm)?)?;
    let engine = engine();
    let module = Module::new(&engine, &instrumented.bytes)
        .map_err(|e| format!("invalid wasm module: {e}"))?;
    let compiled = Arc::new(Compiled {
        original: wasm.to_vec(),
        engine,
        module,
        globals: instrumented.globals,
        has_table: instrumented.has_table,
    });
    let mut kept = cache();
    if kept.len() >= COMPILED_KEPT {
        kept.remove(0);
    }
    kept.push(compiled.clone());
    Ok(compiled)
}

/// Accepts a plain or gzipped module.
pub fn unpack(wasm: &[u8]) -> Result<Vec<u8>, String> {
    if wasm.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(wasm)
            .read_to_end(&mut out)
            .map_err(|e| format!("invalid gzip: {e}"))?;
        Ok(out)
    } else {
        Ok(wasm.to_vec())
    }
}

/// The unit in which snapshots are compared and copied.
const SNAPSHOT_CHUNK: usize = 4096;

fn engine() -> Engine {
    let mut config = Config::default();
    // Fuel is the instruction counter, priced by the IC's table (`cost.rs`); eager compilation
    // keeps translation out of the counts.
    config
        .consume_fuel(true)
        .operator_cost(crate::cost::operator_costs())
        .fuel_cost(crate::cost::byte_costs())
        .compilation_mode(CompilationMode::Eager);
    Engine::new(&config)
}

impl Instance {
    pub fn new(wasm: &[u8]) -> Result<Self, String> {
        let compiled = compiled(wasm)?;
        let (engine, module) = (compiled.engine.clone(), compiled.module.clone());
        let mut linker = Linker::new(&engine);
        let provided =
            crate::ic0::link(&mut linker).map_err(|e| format!("host setup failed: {e}"))?;
        let mut store = Store::new(&engine, Ctx::default());
        for import in module.imports() {
            let known = match import.module() {
                "ic0" => provided.contains(&import.name()),
                rewrite::HOST_MODULE => import.name() == rewrite::MEMORY_GROW_IMPORT,
                _ => false,
            };
            if !known {
                return Err(format!(
                    "the module imports {}.{}, which the host does not provide",
                    import.module(),
                    import.name()
                ));
            }
        }
        let instance = instantiate(&linker, &mut store, &module)?;
        let exports = module.exports().map(|e| e.name().to_string()).collect();
        Ok(Self {
            original: wasm.to_vec(),
            engine,
            module,
            linker,
            store,
            instance,
            globals: compiled.globals.clone(),
            has_table: compiled.has_table,
            exports,
        })
    }

    pub fn has_export(&self, name: &str) -> bool {
        self.exports.iter().any(|e| e == name)
    }

    pub fn memory_size(&self) -> usize {
        self.memory().data_size(&self.store)
    }

    fn memory(&self) -> wasmi::Memory {
        self.instance
            .get_memory(&self.store, MEMORY_EXPORT)
            .expect("instrumented modules export their memory")
    }

    pub fn snapshot_into(&self, snapshot: &mut Snapshot) {
        snapshot.memory.clear();
        snapshot
            .memory
            .extend_from_slice(self.memory().data(&self.store));
        snapshot.globals.clear();
        for name in &self.globals {
            let global = self
                .instance
                .get_global(&self.store, name)
                .expect("instrumented global");
            snapshot.globals.push(global.get(&self.store));
        }
    }

    /// Brings `snapshot` up to the instance's current state, copying only the chunks that
    /// differ (memory only grows, so a longer memory appends its new pages).
    pub fn sync_snapshot(&self, snapshot: &mut Snapshot) {
        let data = self.memory().data(&self.store);
        let kept = snapshot.memory.len().min(data.len());
        for (then, now) in snapshot.memory[..kept]
            .chunks_mut(SNAPSHOT_CHUNK)
            .zip(data[..kept].chunks(SNAPSHOT_CHUNK))
        {
            if then != now {
                then.copy_from_slice(now);
            }
        }
        snapshot.memory.truncate(data.len());
        snapshot.memory.extend_from_slice(&data[kept..]);
        snapshot.globals.clear();
        for name in &self.globals {
            let global = self
                .instance
                .get_global(&self.store, name)
                .expect("instrumented global");
            snapshot.globals.push(global.get(&self.store));
        }
    }

    /// Puts the instance back to `snapshot`. Wasm memory cannot shrink, so a grown memory
    /// means a fresh instance.
    pub fn restore(&mut self, snapshot: &Snapshot) -> Result<(), String> {
        if self.memory_size() > snapshot.memory.len() {
            let ctx = std::mem::take(self.store.data_mut());
            self.store = Store::new(&self.engine, ctx);
            self.instance = instantiate(&self.linker, &mut self.store, &self.module)?;
        }
        let memory = self.memory();
        let missing = snapshot.memory.len() - memory.data_size(&self.store);
        if missing > 0 {
            memory
                .grow(
                    &mut self.store,
                    (missing / crate::types::WASM_PAGE as usize) as u64,
                )
                .map_err(|e| format!("cannot restore memory: {e}"))?;
        }
        // Only the chunks an execution changed differ: comparing reads both, but writes (and
        // dirties) only those, which costs far less than copying a large heap back whole.
        let data = memory.data_mut(&mut self.store);
        for (now, then) in data
            .chunks_mut(SNAPSHOT_CHUNK)
            .zip(snapshot.memory.chunks(SNAPSHOT_CHUNK))
        {
            if now != then {
                now.copy_from_slice(then);
            }
        }
        for (name, value) in self.globals.iter().zip(&snapshot.globals) {
            let global = self
                .instance
                .get_global(&self.store, name)
                .expect("instrumented global");
            global
                .set(&mut self.store, value.clone())
                .map_err(|e| format!("cannot restore global {name}: {e}"))?;
        }
        Ok(())
    }

    /// Runs an exported entry point with `fuel` instructions; returns the fuel left.
    pub fn call_export(&mut self, name: &str, fuel: u64) -> (Result<(), wasmi::Error>, u64) {
        self.set_fuel(fuel);
        let result = match self.instance.get_typed_func::<(), ()>(&self.store, name) {
            Ok(func) => func.call(&mut self.store, ()),
            Err(e) => Err(e),
        };
        (result, self.fuel())
    }

    /// Runs the function at `index` of the function table with `env`, as the IC runs callbacks.
    pub fn call_table(
        &mut self,
        index: u32,
        env: u32,
        fuel: u64,
    ) -> (Result<(), wasmi::Error>, u64) {
        self.set_fuel(fuel);
        let func = self
            .has_table
            .then(|| self.instance.get_table(&self.store, TABLE_EXPORT))
            .flatten()
            .and_then(|table| table.get(&self.store, u64::from(index)));
        let result = match func {
            Some(Ref::Func(func)) => match func.val() {
                Some(func) => match func.typed::<u32, ()>(&self.store) {
                    Ok(func) => func.call(&mut self.store, env),
                    Err(e) => Err(e),
                },
                None => Err(wasmi::Error::new(format!(
                    "callback table entry {index} is null"
                ))),
            },
            _ => Err(wasmi::Error::new(format!(
                "callback {index} is not in the function table"
            ))),
        };
        (result, self.fuel())
    }

    fn set_fuel(&mut self, fuel: u64) {
        self.store.set_fuel(fuel).expect("fuel metering is enabled");
    }

    fn fuel(&self) -> u64 {
        self.store.get_fuel().expect("fuel metering is enabled")
    }
}

fn instantiate(
    linker: &Linker<Ctx>,
    store: &mut Store<Ctx>,
    module: &Module,
) -> Result<WasmiInstance, String> {
    let instance = linker
        .instantiate_and_start(&mut *store, module)
        .map_err(|e| format!("instantiation failed: {e}"))?;
    let memory = instance
        .get_export(&*store, MEMORY_EXPORT)
        .and_then(Extern::into_memory);
    store.data_mut().memory = memory;
    Ok(instance)
}

#[cfg(test)]
#[path = "instance_tests.rs"]
mod tests;
