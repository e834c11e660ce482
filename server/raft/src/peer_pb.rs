//! `corvo.v1.RaftPeerService`: the generated messages and tonic stubs of the peer port
//! (`buf generate --template sdk-gen/buf.gen.rust-peer.yaml`; do not edit `src/gen`). Kept out
//! of the SDK: no client but another node calls it.

#![allow(clippy::all, missing_docs)]

include!("gen/corvo/v1/corvo.v1.rs");
