use super::*;

fn module(marker: i32) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module (memory 1) (func (export "canister_query get") (drop (i32.const {marker}))))"#
    ))
    .unwrap()
}

#[test]
fn a_module_is_compiled_once_and_its_instances_are_separate() {
    let wasm = module(1);
    let (first, second) = (Instance::new(&wasm).unwrap(), Instance::new(&wasm).unwrap());
    // The same compiled module: one engine, one translation.
    assert!(Engine::same(&first.engine, &second.engine));
    assert!(second.has_export("canister_query get"));
    // Each instance keeps its own store and memory.
    let mut first = first;
    let memory = first
        .instance
        .get_memory(&first.store, MEMORY_EXPORT)
        .unwrap();
    memory.data_mut(&mut first.store)[0] = 7;
    let memory = second
        .instance
        .get_memory(&second.store, MEMORY_EXPORT)
        .unwrap();
    assert_eq!(memory.data(&second.store)[0], 0);
}

#[test]
fn other_bytes_compile_anew_and_the_cache_stays_bounded() {
    let base = Instance::new(&module(100)).unwrap();
    let others: Vec<Instance> = (101..101 + COMPILED_KEPT as i32)
        .map(|marker| Instance::new(&module(marker)).unwrap())
        .collect();
    assert!(others
        .iter()
        .all(|o| !Engine::same(&o.engine, &base.engine)));
    assert!(COMPILED.lock().unwrap().len() <= COMPILED_KEPT);
}
