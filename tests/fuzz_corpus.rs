//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/*`) through the same entry points the
//! cargo-fuzz targets call, on stable, as an ordinary test: every crash ever found stays fixed.

use std::fs;

use ipsec_tests::workspace_root;

type Target = fn(&[u8]);

const TARGETS: &[(&str, Target)] = &[
    ("ip_walk", ipsec_core::testing::fuzz::ip_walk),
    ("natt_classify", ipsec_core::testing::fuzz::natt_classify),
    ("ipsec_headers", ipsec_core::testing::fuzz::ipsec_headers),
    ("esp_unprotect", ipsec_core::testing::fuzz::esp_unprotect),
    ("ah_unprotect", ipsec_core::testing::fuzz::ah_unprotect),
    ("spd_match", ipsec_core::testing::spd::fuzz_spd),
    ("mss_clamp", ipsec_core::testing::spd::fuzz_mss),
    ("ike_message", ipsec_ike::testing::codec::fuzz_ike_message),
    ("sk_open", ipsec_ike::testing::crypto::fuzz_sk_open),
    ("certificate", ipsec_ike::testing::crypto::fuzz_certificate),
    ("endpoint", ipsec_ike::testing::engine::fuzz_endpoint),
];

#[test]
fn every_corpus_input_runs_clean() {
    let root = workspace_root().join("fuzz").join("corpus");
    let mut total = 0;
    for (name, target) in TARGETS {
        let dir = root.join(name);
        let mut files: Vec<_> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e} (every target keeps a corpus)", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{}: empty corpus", dir.display());
        for f in &files {
            let data = fs::read(f).unwrap();
            target(&data);
        }
        eprintln!("{name}: {} inputs", files.len());
        total += files.len();
    }
    assert!(total >= TARGETS.len());
}
