//! SBOM format tests: golden files, official-schema validation, round trips, peer SBOMs.

mod fixture;
mod golden;
mod peers;
mod roundtrip;
mod schema;
