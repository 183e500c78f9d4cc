//! Background work shared safely by any number of API instances.

pub mod reminders;
