//! The service interface from the `.did` file: typing Candid text arguments against a method's
//! (or the service's init) argument types, encoding them, and decoding replies with the return types.

use candid::types::{Function, Type, TypeInner};
use candid::{IDLArgs, TypeEnv};
use candid_parser::utils::CandidSource;
use std::path::Path;

/// The parsed `.did`: its type definitions, init arguments and methods.
pub struct Interface {
    env: TypeEnv,
    init_args: Vec<Type>,
    methods: Vec<(String, Function)>,
}

impl Interface {
    pub fn load(path: &Path) -> Result<Self, String> {
        if !path.is_file() {
            return Err(format!(
                "no Candid interface at {} (use --candid PATH)",
                path.display()
            ));
        }
        Self::parse(CandidSource::File(path), &path.display().to_string())
    }

    /// The interface a canister module declares in its public `candid:service` metadata (as
    /// dfx and icp read it from a deployed canister).
    pub fn from_module(module: &[u8], what: &str) -> Result<Self, String> {
        let sections = endpoint::metadata::sections(module);
        let did = sections.public.get("candid:service").ok_or_else(|| {
            format!("{what} has no public candid:service metadata (use --candid PATH)")
        })?;
        let text = std::str::from_utf8(did)
            .map_err(|e| format!("{what}'s candid:service is not text: {e}"))?;
        Self::parse(CandidSource::Text(text), what)
    }

    fn parse(source: CandidSource, what: &str) -> Result<Self, String> {
        let (env, actor) = source
            .load()
            .map_err(|e| format!("{what}: {}", one_line(&e.to_string())))?;
        let actor = actor.ok_or_else(|| format!("{what} has no service"))?;
        let actor = env.trace_type(&actor).map_err(|e| e.to_string())?;
        let init_args = match actor.as_ref() {
            TypeInner::Class(args, _) => args.clone(),
            _ => vec![],
        };
        let mut methods = vec![];
        for (name, ty) in env.as_service(&actor).map_err(|e| e.to_string())? {
            methods.push((
                name.clone(),
                env.as_func(ty).map_err(|e| e.to_string())?.clone(),
            ));
        }
        Ok(Self {
            env,
            init_args,
            methods,
        })
    }

    pub fn method(&self, name: &str) -> Result<&Function, String> {
        self.methods
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f)
            .ok_or_else(|| {
                let names: Vec<&str> = self.methods.iter().map(|(n, _)| n.as_str()).collect();
                format!(
                    "the interface has no method '{name}'; methods: {}",
                    names.join(", ")
                )
            })
    }

    /// Encodes the init (or upgrade) argument; no text means the values the types allow to omit.
    pub fn encode_init(&self, text: Option<&str>) -> Result<Vec<u8>, String> {
        self.encode("the init arguments", &self.init_args, text.unwrap_or("()"))
    }

    /// Encodes `text` as the arguments of `method`.
    pub fn encode_call(&self, method: &str, text: &str) -> Result<Vec<u8>, String> {
        let func = self.method(method)?;
        self.encode(&format!("the arguments of {method}"), &func.args, text)
    }

    /// Decodes a reply of `method` with its return types.
    pub fn decode_reply(&self, method: &str, bytes: &[u8]) -> Result<IDLArgs, String> {
        let func = self.method(method)?;
        IDLArgs::from_bytes_with_types(bytes, &self.env, &func.rets).map_err(|e| {
            format!(
                "cannot decode the reply of {method} as {}: {}",
                self.show_types(&func.rets),
                one_line(&e.to_string())
            )
        })
    }

    fn encode(&self, what: &str, types: &[Type], text: &str) -> Result<Vec<u8>, String> {
        let expected = || self.show_types(types);
        let args = candid_parser::parse_idl_args(text).map_err(|e| {
            format!(
                "{what} are not valid Candid text ({}); expected {}",
                one_line(&e.to_string()),
                expected()
            )
        })?;
        if args.args.len() > types.len() {
            return Err(format!(
                "{what}: {} values given, expected {}",
                args.args.len(),
                expected()
            ));
        }
        let typed = args.annotate_types(true, &self.env, types).map_err(|e| {
            format!(
                "{what} do not match the types ({}); expected {}",
                one_line(&e.to_string()),
                expected()
            )
        })?;
        typed
            .to_bytes_with_types(&self.env, types)
            .map_err(|e| format!("cannot encode {what}: {}", one_line(&e.to_string())))
    }

    /// `(T1, T2)`, followed by the definitions of the named types they use.
    fn show_types(&self, types: &[Type]) -> String {
        let list: Vec<String> = types.iter().map(|t| t.to_string()).collect();
        let mut out = format!("({})", list.join(", "));
        let mut names = vec![];
        for t in types {
            self.collect_names(t, &mut names);
        }
        let defs: Vec<String> = names
            .iter()
            .filter_map(|name| {
                self.env
                    .find_type(name)
                    .ok()
                    .map(|d| format!("{name} = {}", one_line(&d.to_string())))
            })
            .collect();
        if !defs.is_empty() {
            out.push_str(&format!(" where {}", defs.join("; ")));
        }
        out
    }

    /// The named types `t` refers to, directly or through other named types, in first-use order.
    fn collect_names(&self, t: &Type, names: &mut Vec<String>) {
        match t.as_ref() {
            TypeInner::Var(name) if !names.contains(name) => {
                names.push(name.clone());
                if let Ok(def) = self.env.find_type(name) {
                    self.collect_names(def, names);
                }
            }
            TypeInner::Opt(inner) | TypeInner::Vec(inner) => self.collect_names(inner, names),
            TypeInner::Record(fields) | TypeInner::Variant(fields) => {
                fields.iter().for_each(|f| self.collect_names(&f.ty, names))
            }
            TypeInner::Func(f) => f
                .args
                .iter()
                .chain(&f.rets)
                .for_each(|t| self.collect_names(t, names)),
            _ => {}
        }
    }
}

/// Error texts from the Candid crates may span lines; an error here is one line.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
