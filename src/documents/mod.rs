//! Documents the office sends up the chain: the summary table as XLSX (in and out) and a unit's
//! annual report draft as DOCX.

pub mod docx;
pub mod xlsx;

/// The media type of XLSX workbooks.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// The media type of DOCX documents.
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
