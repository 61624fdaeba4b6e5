//! Report formats: golden files, official schemas, and the shapes CI systems read.

mod fixture;
mod golden;
mod peers;
mod schema;
