//! Every source key the catalog cites is defined in the catalog and listed in the model
//! document, so no figure is without a traceable source.

use cluster::Catalog;

#[test]
fn every_source_is_defined_and_documented() {
    let catalog = Catalog::builtin();
    catalog.validate().unwrap();
    let doc_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/models/cluster.md");
    let doc = std::fs::read_to_string(doc_path).expect("docs/models/cluster.md exists");
    for key in catalog.sources.keys() {
        assert!(
            doc.contains(&format!("| `{key}` |")),
            "source `{key}` is not listed in docs/models/cluster.md"
        );
    }
    for (part, key) in catalog.source_references() {
        assert!(catalog.sources.contains_key(&key), "{part} cites undefined source {key}");
    }
}
