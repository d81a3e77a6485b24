//! The recorded event payloads.
