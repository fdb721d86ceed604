//! Fuzz the kdump parser: any bytes, starting with its signature.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "exercise.rs"]
mod exercise;

fuzz_target!(|data: &[u8]| {
    exercise::exercise(exercise::with_signature(b"KDUMP   ", data));
});
