//! Streams: the [`ModelDelta`]s a [`Model`](super::Model) yields, and the [`GenerateChunk`]s a
//! streaming `generate` gives its caller ([`GenerateStream`]).

mod delta;
mod generate_stream;

pub use delta::{ModelDelta, ModelStream};
pub use generate_stream::{GenerateChunk, GenerateStream};

pub(crate) use delta::{Accumulator, collect, replay};
pub(crate) use generate_stream::CHUNK_BUFFER;
