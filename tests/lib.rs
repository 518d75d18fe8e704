//! Shared helpers for the cross-crate tests: locating external tools and deciding when a test that
//! needs one may report itself skipped (never under CI).

use std::path::Path;

/// True when running under CI (`CI=true`), where tests must not skip.
#[must_use]
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Reports a test as skipped with its reason, or fails it under CI, where every test must run.
///
/// # Panics
/// Under CI, always: a missing prerequisite there is a broken CI script, not a skip.
pub fn skip(test: &str, reason: &str) {
    assert!(!in_ci(), "{test}: cannot run under CI: {reason}");
    eprintln!("SKIPPED {test}: {reason}");
}

/// The workspace root (the parent of this crate's directory).
#[must_use]
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
}
