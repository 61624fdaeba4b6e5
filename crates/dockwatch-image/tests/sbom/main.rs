//! SBOM format tests: golden files, official-schema validation, round trips, peer SBOMs.

mod fixture;
mod golden;
mod interop;
mod peers;
mod real;
mod roundtrip;
mod scale;
mod schema;
