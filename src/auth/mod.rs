//! Authentication and authorization: password hashing, signed tokens, the authenticated caller
//! ([`Principal`]) and the access policy.

pub mod password;
pub mod policy;
pub mod principal;
pub mod session;
pub mod token;

pub use principal::Principal;
