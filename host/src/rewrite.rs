//! Adds exports to a canister module so the host can reach what a canister never exports.
//!
//! ic-cdk builds export neither the function table (needed to run call callbacks by index) nor
//! their mutable globals such as `__stack_pointer` (needed to snapshot and roll back a message).
//! The rewrite copies every section byte for byte and only replaces the export section.

use wasm_encoder::{ExportKind, ExportSection, RawSection};
use wasmparser::{ExternalKind, Parser, Payload, TypeRef};

pub(crate) const MEMORY_EXPORT: &str = "__ic0host_memory";
pub(crate) const TABLE_EXPORT: &str = "__ic0host_table";

/// The rewritten module and the names under which the host finds its state.
pub(crate) struct Instrumented {
    pub bytes: Vec<u8>,
    /// Export names of the module's own mutable globals, in index order.
    pub globals: Vec<String>,
    /// Whether the module has a function table (modules without calls may have none).
    pub has_table: bool,
}

pub(crate) fn instrument(wasm: &[u8]) -> Result<Instrumented, String> {
    let mut imported_globals = 0u32;
    let mut imported_tables = 0u32;
    let mut mutable_globals = Vec::new();
    let mut tables = 0u32;
    let mut memories = 0u32;
    let mut exports: Vec<(String, ExportKind, u32)> = Vec::new();
    let mut sections: Vec<(u8, &[u8])> = Vec::new();
    let mut export_slot = None;

    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| format!("invalid wasm module: {e}"))?;
        match &payload {
            Payload::ImportSection(reader) => {
                for import in reader.clone() {
                    let import = import.map_err(|e| format!("invalid import: {e}"))?;
                    match import.ty {
                        TypeRef::Global(_) => imported_globals += 1,
                        TypeRef::Table(_) => imported_tables += 1,
                        TypeRef::Memory(_) => {
                            return Err(
                                "the module imports its memory; canisters define their own".into()
                            )
                        }
                        _ => {}
                    }
                }
            }
            Payload::TableSection(reader) => tables += reader.count(),
            Payload::MemorySection(reader) => memories += reader.count(),
            Payload::GlobalSection(reader) => {
                for (i, global) in reader.clone().into_iter().enumerate() {
                    let global = global.map_err(|e| format!("invalid global: {e}"))?;
                    if global.ty.mutable {
                        mutable_globals.push(imported_globals + i as u32);
                    }
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader.clone() {
                    let export = export.map_err(|e| format!("invalid export: {e}"))?;
                    let kind = match export.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => ExportKind::Func,
                        ExternalKind::Table => ExportKind::Table,
                        ExternalKind::Memory => ExportKind::Memory,
                        ExternalKind::Global => ExportKind::Global,
                        ExternalKind::Tag => ExportKind::Tag,
                    };
                    exports.push((export.name.to_string(), kind, export.index));
                }
                export_slot = Some(sections.len());
                continue;
            }
            _ => {}
        }
        if let Some((id, range)) = payload.as_section() {
            // Sections after the export section in the binary order: start, element, code, data, data count.
            if export_slot.is_none() && matches!(id, 8..=12) {
                export_slot = Some(sections.len());
            }
            sections.push((id, &wasm[range]));
        }
    }
    if memories != 1 {
        return Err(format!(
            "a canister module defines exactly one memory, this one has {memories}"
        ));
    }

    let mut section = ExportSection::new();
    for (name, kind, index) in &exports {
        section.export(name, *kind, *index);
    }
    section.export(MEMORY_EXPORT, ExportKind::Memory, 0);
    let has_table = tables + imported_tables > 0;
    if has_table {
        section.export(TABLE_EXPORT, ExportKind::Table, 0);
    }
    let mut globals = Vec::new();
    for index in mutable_globals {
        let name = format!("__ic0host_global_{index}");
        section.export(&name, ExportKind::Global, index);
        globals.push(name);
    }

    let slot = export_slot.unwrap_or(sections.len());
    let mut module = wasm_encoder::Module::new();
    for (i, (id, data)) in sections.iter().enumerate() {
        if i == slot {
            module.section(&section);
        }
        module.section(&RawSection { id: *id, data });
    }
    if slot == sections.len() {
        module.section(&section);
    }
    Ok(Instrumented {
        bytes: module.finish(),
        globals,
        has_table,
    })
}

#[cfg(test)]
mod tests {
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
}
