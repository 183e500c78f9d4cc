//! Background work shared safely by any number of API instances.

pub mod maintenance;
pub mod reminders;
pub mod tallies;
pub mod webhooks;
