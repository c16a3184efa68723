//! Prepares a canister module for the host, as the IC instruments modules before running them.
//!
//! - Exports what a canister never exports but the host must reach: the memory, the function
//!   table (callbacks run by index) and the mutable globals such as `__stack_pointer` (to
//!   snapshot and roll back a message).
//! - Replaces every `memory.grow` with a call to the host's `__ic0host.memory_grow`, which grows
//!   the memory and charges the IC's price (see `cost.rs`): wasmi would charge per byte grown.
//!
//! The added import comes after the module's own imports, so every defined function's index
//! moves up by one; wasm-encoder's `Reencode` renumbers calls, exports, elements, the start
//! function and the name section.

use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{
    EntityType, ExportKind, ExportSection, ImportSection, Instruction, Module, SectionId,
    TypeSection, ValType,
};
use wasmparser::{Operator, Parser, Payload, TypeRef};

pub(crate) const MEMORY_EXPORT: &str = "__ic0host_memory";
pub(crate) const TABLE_EXPORT: &str = "__ic0host_table";
/// The host functions the rewrite calls: `(import "__ic0host" "memory_grow" (func (param i32) (result i32)))`.
pub(crate) const HOST_MODULE: &str = "__ic0host";
pub(crate) const MEMORY_GROW_IMPORT: &str = "memory_grow";

/// The rewritten module and the names under which the host finds its state.
pub(crate) struct Instrumented {
    pub bytes: Vec<u8>,
    /// Export names of the module's own mutable globals, in index order.
    pub globals: Vec<String>,
    /// Whether the module has a function table (modules without calls may have none).
    pub has_table: bool,
}

/// What a first pass learns of the module.
#[derive(Default)]
struct Shape {
    types: u32,
    imported_funcs: u32,
    mutable_globals: Vec<u32>,
    has_table: bool,
}

fn shape(wasm: &[u8]) -> Result<Shape, String> {
    let mut shape = Shape::default();
    let (mut imported_globals, mut memories) = (0u32, 0u32);
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| format!("invalid wasm module: {e}"))? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    let group = group.map_err(|e| format!("invalid type: {e}"))?;
                    shape.types += group.types().len() as u32;
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader {
                    match import.map_err(|e| format!("invalid import: {e}"))?.ty {
                        TypeRef::Func(_) | TypeRef::FuncExact(_) => shape.imported_funcs += 1,
                        TypeRef::Global(_) => imported_globals += 1,
                        TypeRef::Table(_) => shape.has_table = true,
                        TypeRef::Memory(_) => {
                            return Err(
                                "the module imports its memory; canisters define their own".into()
                            )
                        }
                        TypeRef::Tag(_) => {}
                    }
                }
            }
            Payload::TableSection(reader) => shape.has_table |= reader.count() > 0,
            Payload::MemorySection(reader) => memories += reader.count(),
            Payload::GlobalSection(reader) => {
                for (i, global) in reader.into_iter().enumerate() {
                    let global = global.map_err(|e| format!("invalid global: {e}"))?;
                    if global.ty.mutable {
                        shape.mutable_globals.push(imported_globals + i as u32);
                    }
                }
            }
            _ => {}
        }
    }
    if memories != 1 {
        return Err(format!(
            "a canister module defines exactly one memory, this one has {memories}"
        ));
    }
    Ok(shape)
}

struct Rewriter<'a> {
    shape: &'a Shape,
    globals: Vec<String>,
    wrote_types: bool,
    wrote_imports: bool,
    wrote_exports: bool,
}

impl Rewriter<'_> {
    fn grow_type(&self) -> u32 {
        self.shape.types
    }
    fn grow_func(&self) -> u32 {
        self.shape.imported_funcs
    }
    fn add_grow_type(&self, types: &mut TypeSection) {
        types.ty().function([ValType::I32], [ValType::I32]);
    }
    fn add_grow_import(&self, imports: &mut ImportSection) {
        imports.import(
            HOST_MODULE,
            MEMORY_GROW_IMPORT,
            EntityType::Function(self.grow_type()),
        );
    }
    fn add_exports(&mut self, exports: &mut ExportSection) {
        exports.export(MEMORY_EXPORT, ExportKind::Memory, 0);
        if self.shape.has_table {
            exports.export(TABLE_EXPORT, ExportKind::Table, 0);
        }
        for &index in &self.shape.mutable_globals {
            let name = format!("__ic0host_global_{index}");
            exports.export(&name, ExportKind::Global, index);
            self.globals.push(name);
        }
        self.wrote_exports = true;
    }
}

type Error = reencode::Error<std::convert::Infallible>;

impl Reencode for Rewriter<'_> {
    type Error = std::convert::Infallible;

    fn function_index(&mut self, func: u32) -> Result<u32, Error> {
        Ok(if func >= self.grow_func() {
            func + 1
        } else {
            func
        })
    }

    fn instruction<'a>(&mut self, op: Operator<'a>) -> Result<Instruction<'a>, Error> {
        match op {
            Operator::MemoryGrow { mem: 0 } => Ok(Instruction::Call(self.grow_func())),
            op => reencode::utils::instruction(self, op),
        }
    }

    fn parse_type_section(
        &mut self,
        types: &mut TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Result<(), Error> {
        reencode::utils::parse_type_section(self, types, section)?;
        self.add_grow_type(types);
        self.wrote_types = true;
        Ok(())
    }

    fn parse_import_section(
        &mut self,
        imports: &mut ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> Result<(), Error> {
        reencode::utils::parse_import_section(self, imports, section)?;
        self.add_grow_import(imports);
        self.wrote_imports = true;
        Ok(())
    }

    fn parse_export_section(
        &mut self,
        exports: &mut ExportSection,
        section: wasmparser::ExportSectionReader<'_>,
    ) -> Result<(), Error> {
        reencode::utils::parse_export_section(self, exports, section)?;
        self.add_exports(exports);
        Ok(())
    }

    /// Writes the sections the module lacks (type, import, export) where they belong.
    fn intersperse_section_hook(
        &mut self,
        module: &mut Module,
        _after: Option<SectionId>,
        before: Option<SectionId>,
    ) -> Result<(), Error> {
        let next = match before {
            Some(SectionId::Custom) => return Ok(()),
            Some(id) => id as u8,
            None => u8::MAX,
        };
        if !self.wrote_types && next > SectionId::Type as u8 {
            let mut types = TypeSection::new();
            self.add_grow_type(&mut types);
            module.section(&types);
            self.wrote_types = true;
        }
        if !self.wrote_imports && next > SectionId::Import as u8 {
            let mut imports = ImportSection::new();
            self.add_grow_import(&mut imports);
            module.section(&imports);
            self.wrote_imports = true;
        }
        // Exports come after globals and before start, elements, data count, code and data.
        let after_exports = next > SectionId::Export as u8 && next != SectionId::Tag as u8;
        if !self.wrote_exports && after_exports {
            let mut exports = ExportSection::new();
            self.add_exports(&mut exports);
            module.section(&exports);
        }
        Ok(())
    }
}

pub(crate) fn instrument(wasm: &[u8]) -> Result<Instrumented, String> {
    let shape = shape(wasm)?;
    let mut rewriter = Rewriter {
        shape: &shape,
        globals: Vec::new(),
        wrote_types: false,
        wrote_imports: false,
        wrote_exports: false,
    };
    let mut module = Module::new();
    rewriter
        .parse_core_module(&mut module, Parser::new(0), wasm)
        .map_err(|e| format!("invalid wasm module: {e}"))?;
    Ok(Instrumented {
        bytes: module.finish(),
        globals: rewriter.globals,
        has_table: shape.has_table,
    })
}

#[cfg(test)]
mod tests;
