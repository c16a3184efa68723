//! SKU names `[tier][type].[size]` (pez): tier 1–4, type A–E, a size word, e.g. "4D.large".
//! TODO(helper): parse + validate + names + tests.
