use super::*;

#[test]
fn every_system_api_function_the_host_provides_has_a_fee() {
    let engine = wasmi::Engine::default();
    let mut linker = wasmi::Linker::new(&engine);
    let names = crate::ic0::link(&mut linker).unwrap();
    assert!(names.len() > 40);
    let missing: Vec<_> = names
        .iter()
        .filter(|name| system_api_fee(name).is_none())
        .collect();
    assert!(missing.is_empty(), "no fee for {missing:?}");
}

#[test]
fn the_table_prices_what_the_ic_prices_apart() {
    let c = operator_costs();
    let cases = [
        ("i32.add", c.i32_add, 1),
        ("local.get", c.local_get, 1),
        ("nop", c.nop, 1),
        ("block", c.block, 0),
        ("end", c.end, 0),
        ("br_if", c.br_if, 2),
        ("global.get", c.global_get, 2),
        ("call", c.call, 5),
        ("call_indirect", c.call_indirect, 10),
        ("i64.div_u", c.i64_div_u, 10),
        ("memory.copy", c.memory_copy, 100),
        ("memory.size", c.memory_size, 20),
        ("f64.min", c.f64_min, 18),
    ];
    for (op, cost, ic) in cases {
        assert_eq!(cost, ic, "{op}");
    }
}
