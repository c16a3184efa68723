//! Embeds the web app in the canister: every file of `js/app/dist/` (or of the directory
//! `MARKETPLACE_APP_DIR` names, relative to this crate) becomes an entry of `APP_FILES` in
//! `$OUT_DIR/app_files.rs`, with its bytes (`include_bytes!`) and a gzip copy made here, so
//! the canister compresses nothing at run time. Paths are sorted and the gzip stream carries no
//! name or time: the same dist gives the same wasm. `src/http/assets.rs` serves them.

use flate2::{Compression, GzBuilder};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

const DEFAULT_DIR: &str = "js/app/dist";

fn main() {
    println!("cargo:rerun-if-env-changed=MARKETPLACE_APP_DIR");
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let dir =
        manifest.join(env::var_os("MARKETPLACE_APP_DIR").unwrap_or_else(|| DEFAULT_DIR.into()));
    let wasm = env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32");

    let files = if dir.is_dir() {
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files = Vec::new();
        walk(&dir, &dir, &mut files);
        files.sort();
        files
    } else if wasm {
        panic!(
            "{} is missing: run scripts/build.sh, which builds the app first",
            dir.display()
        );
    } else {
        // Native builds (unit tests, clippy) serve no app; their tests bring their own files.
        // A missing path would rerun this script on every build: watch what exists above it.
        if let Some(parent) = dir.ancestors().find(|p| p.is_dir()) {
            println!("cargo:rerun-if-changed={}", parent.display());
        }
        Vec::new()
    };

    let gz_dir = out.join("app_gzip");
    // Copies of files since removed must not linger.
    let _ = fs::remove_dir_all(&gz_dir);
    fs::create_dir_all(&gz_dir).expect("create OUT_DIR/app_gzip");
    let mut code = String::from("pub static APP_FILES: &[AppFile] = &[\n");
    for (i, path) in files.iter().enumerate() {
        let file = dir.join(path);
        println!("cargo:rerun-if-changed={}", file.display());
        let bytes = fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if files.contains(&format!("{path}.gz")) {
            panic!(
                "{}: {path} has a .gz beside it; the canister gzips files itself",
                dir.display()
            );
        }
        // Already compressed formats (png, woff2) gain nothing: no gzip copy for them.
        let gzip = Some(gzip(&bytes))
            .filter(|gz| gz.len() < bytes.len())
            .map(|gz| {
                let gz_path = gz_dir.join(format!("{i}.gz"));
                fs::write(&gz_path, gz).expect("write a gzip copy");
                format!("Some(include_bytes!({:?}))", gz_path.display().to_string())
            })
            .unwrap_or_else(|| "None".into());
        code.push_str(&format!(
            "    AppFile {{ path: {path:?}, content: include_bytes!({:?}), gzip: {gzip} }},\n",
            file.display().to_string()
        ));
    }
    code.push_str("];\n");
    fs::write(out.join("app_files.rs"), code).expect("write OUT_DIR/app_files.rs");
}

/// Every file under `dir`, as a path relative to `root` with `/` separators.
fn walk(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            walk(root, &path, files);
            continue;
        }
        let relative = path.strip_prefix(root).expect("under the root");
        let parts: Option<Vec<&str>> = relative.iter().map(|p| p.to_str()).collect();
        let parts = parts.unwrap_or_else(|| panic!("{}: not a UTF-8 name", path.display()));
        files.push(parts.join("/"));
    }
}

/// Gzip at the best level, with no file name and a zero time: the same bytes every build.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::best());
    encoder.write_all(bytes).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}
