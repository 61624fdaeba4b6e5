//! The official JSON schemas the output formats are tested against (CycloneDX, SPDX, SARIF,
//! in `crates/dockwatch-image/testdata/schemas`), with their `$ref`s served from the local
//! copies so validation runs offline.

use serde_json::Value;
use std::path::PathBuf;

fn schemas_dir() -> PathBuf {
    crate::repo_root().join("crates/dockwatch-image/testdata/schemas")
}

fn load(file: &str) -> Value {
    let path = schemas_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Serves the schemas' `$ref`s (`spdx.schema.json`, `jsf-0.82.schema.json`) from the local copies.
struct LocalSchemas;

impl jsonschema::Retrieve for LocalSchemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let file = uri.as_str().rsplit('/').next().unwrap_or_default();
        let path = schemas_dir().join(file);
        if !path.is_file() {
            return Err(format!(
                "no local copy of {} (looked for {})",
                uri.as_str(),
                path.display()
            )
            .into());
        }
        Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
    }
}

/// A validator for the schema file `schema_file` (formats checked too).
pub fn validator(schema_file: &str) -> jsonschema::Validator {
    jsonschema::options()
        .with_retriever(LocalSchemas)
        .should_validate_formats(true)
        .build(&load(schema_file))
        .unwrap_or_else(|e| panic!("{schema_file}: {e}"))
}

/// Where `doc` breaks the schema: one line per error, with the instance path.
pub fn errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{}: {}", e.instance_path(), e))
        .collect()
}
