//! The one pipeline every command runs through ([`pipeline`]): load and check the
//! scenario, the point estimate ([`point`]), Monte Carlo, the metrics of the command
//! ([`compare`], sensitivity), the exporters, and the atomic commit of the output folder
//! ([`staging`]).

pub mod calibration;
pub mod compare;
pub mod path;
pub mod pilot;
pub mod pipeline;
pub mod point;
pub mod shards;
pub mod staging;
pub mod warnings;
