//! The CLI tests: the real `ucsv` binary run on files written into a temporary directory,
//! its outcome checked in the JSON report, on stderr and in the SQLite database.

mod account;
mod cell_rules;
mod cloudify;
mod columns_rules;
mod concurrency;
mod config;
mod contexts;
mod cross_row;
mod database;
mod dialects;
mod docs;
mod domain;
mod entities;
mod export;
mod faults;
mod groups;
mod history;
mod hostile_input;
mod http_safety;
mod input;
mod outputs;
mod postgres;
mod readers;
mod report;
mod roundtrip;
mod secrets;
mod serve;
mod servers;
mod spreadsheets;
mod terminal;
mod tls;
mod transaction;
mod update;
mod user;
mod workdir;
