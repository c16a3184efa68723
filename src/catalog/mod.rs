//! Provider catalogs: offerings in the serverhunter CSV format, published by providers under
//! Ed25519 signatures, kept in stable memory, and indexed for search.
//!
//! | module       | what it holds                                                            |
//! |--------------|--------------------------------------------------------------------------|
//! | `offering`   | the 35-column model: cells as written, normalised values, `normalize`    |
//! | `csv_format` | CSV import (header by name, per-row errors, atomic) and export           |
//! | `text`       | the one tokenizer for indexed text and queries                           |
//! | `provider`   | provider keys: 32 raw bytes or PEM (SPKI) in, PEM out                    |
//! | `signing`    | the domain-separated message every catalog change is signed over         |
//! | `store`      | providers, offerings and upload sessions in stable memory                |
//! | `publish`    | applying signed operations: replace, upsert, remove, remove provider     |
//! | `upload`     | chunked uploads: begin / append / commit                                 |
//! | `changes`    | the change feed (provider, offering key, upsert/remove) by sequence      |
//! | `index`      | the search index on the heap, saved to stable memory across upgrades     |
//! | `search`     | lookup, provider browse, text + filter queries, sorting, cursors         |
//! | `encode`     | Candid records, PEM+CSV and compact JSON replies, trimmed to fit         |
//! | `synthetic`  | seeded synthetic catalogs for tests and benchmarks (native only)         |

pub mod offering;
pub mod text;
