use super::*;

// A hand-assembled module: one mutable global, one table, one memory, one exported function.
fn sample_module() -> Vec<u8> {
    use wasm_encoder::*;
    let mut m = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([], []);
    m.section(&types);
    let mut funcs = FunctionSection::new();
    funcs.function(0);
    m.section(&funcs);
    let mut tables = TableSection::new();
    tables.table(TableType {
        element_type: RefType::FUNCREF,
        minimum: 1,
        maximum: None,
        table64: false,
        shared: false,
    });
    m.section(&tables);
    let mut mems = MemorySection::new();
    mems.memory(MemoryType {
        minimum: 1,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    m.section(&mems);
    let mut globals = GlobalSection::new();
    globals.global(
        GlobalType {
            val_type: ValType::I32,
            mutable: false,
            shared: false,
        },
        &ConstExpr::i32_const(1),
    );
    globals.global(
        GlobalType {
            val_type: ValType::I32,
            mutable: true,
            shared: false,
        },
        &ConstExpr::i32_const(7),
    );
    m.section(&globals);
    let mut exports = ExportSection::new();
    exports.export("canister_update f", ExportKind::Func, 0);
    m.section(&exports);
    let mut code = CodeSection::new();
    let mut f = Function::new([]);
    f.instruction(&Instruction::End);
    code.function(&f);
    m.section(&code);
    m.finish()
}

#[test]
fn adds_memory_table_and_mutable_global_exports_and_keeps_the_rest() {
    let out = instrument(&sample_module()).unwrap();
    assert_eq!(out.globals, vec!["__ic0host_global_1".to_string()]);
    assert!(out.has_table);
    let mut names = Vec::new();
    for payload in Parser::new(0).parse_all(&out.bytes) {
        if let Payload::ExportSection(reader) = payload.unwrap() {
            names.extend(reader.into_iter().map(|e| e.unwrap().name.to_string()));
        }
    }
    assert_eq!(
        names,
        [
            "canister_update f",
            MEMORY_EXPORT,
            TABLE_EXPORT,
            "__ic0host_global_1"
        ]
    );
    wasmparser::validate(&out.bytes).unwrap();
}

#[test]
fn rejects_garbage() {
    assert!(instrument(b"not wasm").is_err());
}

#[test]
fn memory_grow_becomes_a_call_to_the_host_and_defined_functions_move_up_by_one() {
    // Indices, not names, so the printed text shows the renumbering: 0 is ic0.msg_reply,
    // 1 grows the memory, 2 calls it and replies.
    let wasm = wat::parse_str(
        r#"(module
            (import "ic0" "msg_reply" (func))
            (memory 1)
            (table 1 funcref)
            (elem (i32.const 0) func 1)
            (func (result i32) (memory.grow (i32.const 1)))
            (func (export "canister_update main") (drop (call 1)) (call 0))
            (start 2))"#,
    )
    .unwrap();
    let out = instrument(&wasm).unwrap();
    wasmparser::validate(&out.bytes).unwrap();
    let text = wasmprinter::print_bytes(&out.bytes).unwrap();
    assert!(
        text.contains(r#"(import "__ic0host" "memory_grow" (func (;1;)"#),
        "{text}"
    );
    assert!(!text.contains("memory.grow"), "{text}");
    // $grow was 1 and is 2: its body calls the host (1); $main (now 3) calls it; the table,
    // the export and the start function follow.
    assert!(text.contains("i32.const 1\n    call 1"), "{text}");
    assert!(text.contains("call 2\n    drop\n    call 0"), "{text}");
    assert!(
        text.contains(r#"(export "canister_update main" (func 3))"#),
        "{text}"
    );
    assert!(text.contains("(start 3)"), "{text}");
    assert!(text.contains("(elem (;0;) (i32.const 0) func 2)"), "{text}");
}

#[test]
fn a_module_without_imports_or_exports_gets_both() {
    let wasm =
        wat::parse_str("(module (memory 1) (func (drop (memory.grow (i32.const 0)))))").unwrap();
    let out = instrument(&wasm).unwrap();
    wasmparser::validate(&out.bytes).unwrap();
    let text = wasmprinter::print_bytes(&out.bytes).unwrap();
    assert!(
        text.contains(r#"(import "__ic0host" "memory_grow""#),
        "{text}"
    );
    assert!(text.contains(MEMORY_EXPORT), "{text}");
    assert!(!text.contains("memory.grow"), "{text}");
}
