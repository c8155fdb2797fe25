//! Documents: what is indexed and retrieved. Text (and media) parts with metadata, in Genkit's
//! JSON shape (`{"content": [{"text": ...}], "metadata": {...}}`) plus an `id`.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::FlowError;

/// A document: its parts, its metadata and its id in a store.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Document {
    /// The id in a store; indexing a document without one gives it its content hash.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// The parts, in order.
    pub content: Vec<DocumentPart>,
    /// Metadata: what filters match and what a retriever hands back.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
}

/// One part of a document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum DocumentPart {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// A media item, by URL (`data:` URLs included).
    Media {
        /// The media item.
        media: MediaRef,
    },
}

/// A media item of a document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MediaRef {
    /// Where the item is (`https:`, `data:`, ...).
    pub url: String,
    /// Its MIME type, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

impl Document {
    /// A document of one text part.
    pub fn text(text: impl Into<String>) -> Self {
        Document {
            content: vec![DocumentPart::Text { text: text.into() }],
            ..Document::default()
        }
    }

    /// Sets the id.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Adds a media part.
    #[must_use]
    pub fn with_media(mut self, url: impl Into<String>, content_type: Option<&str>) -> Self {
        self.content.push(DocumentPart::Media {
            media: MediaRef {
                url: url.into(),
                content_type: content_type.map(str::to_owned),
            },
        });
        self
    }

    /// Sets one metadata entry.
    #[must_use]
    pub fn with_meta(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Replaces the metadata with `metadata`, which must serialize to a JSON object.
    pub fn with_metadata<T: Serialize>(mut self, metadata: &T) -> Result<Self, FlowError> {
        match serde_json::to_value(metadata) {
            Ok(Value::Object(map)) => {
                self.metadata = map;
                Ok(self)
            }
            Ok(other) => Err(FlowError::invalid_argument(format!(
                "document metadata must be a JSON object, not {other}"
            ))),
            Err(e) => Err(FlowError::internal(format!(
                "document metadata does not serialize: {e}"
            ))),
        }
    }

    /// The metadata decoded as `T` (errors name the JSON path).
    pub fn metadata_as<T: DeserializeOwned>(&self) -> Result<T, FlowError> {
        crate::decode(Value::Object(self.metadata.clone()))
    }

    /// The text parts joined by blank lines: what embedders and full-text search see.
    pub fn text_content(&self) -> String {
        let texts: Vec<&str> = self
            .content
            .iter()
            .filter_map(|part| match part {
                DocumentPart::Text { text } => Some(text.as_str()),
                DocumentPart::Media { .. } => None,
            })
            .collect();
        texts.join("\n\n")
    }

    /// A hash of the content and metadata (not the id): 32 hex digits, stable across
    /// platforms, processes and releases, so a store can tell which documents changed since
    /// they were indexed.
    pub fn content_hash(&self) -> String {
        let mut hash = Fnv128::default();
        for part in &self.content {
            match part {
                DocumentPart::Text { text } => hash.field(b"text", text.as_bytes()),
                DocumentPart::Media { media } => {
                    hash.field(b"media", media.url.as_bytes());
                    let content_type = media.content_type.as_deref().unwrap_or_default();
                    hash.field(b"type", content_type.as_bytes());
                }
            }
        }
        // serde_json's maps are sorted (no `preserve_order`), so equal metadata hashes equal.
        let metadata = Value::Object(self.metadata.clone()).to_string();
        hash.field(b"metadata", metadata.as_bytes());
        format!("{:032x}", hash.0)
    }
}

impl From<&str> for Document {
    fn from(text: &str) -> Self {
        Document::text(text)
    }
}

impl From<String> for Document {
    fn from(text: String) -> Self {
        Document::text(text)
    }
}

/// 128-bit FNV-1a: a hash fixed by its specification (std's `Hasher`s may change between
/// releases), for change detection, not against an adversary.
struct Fnv128(u128);

impl Default for Fnv128 {
    fn default() -> Self {
        Fnv128(0x6c62_272e_07bb_0142_62b8_2175_6295_c58d)
    }
}

impl Fnv128 {
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

    fn bytes(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u128::from(byte);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    /// A tagged, length-prefixed field, so that `("ab", "c")` and `("a", "bc")` differ.
    fn field(&mut self, tag: &[u8], value: &[u8]) {
        self.bytes(tag);
        self.bytes(&(value.len() as u64).to_le_bytes());
        self.bytes(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_use_genkits_json_shape() {
        let doc = Document::text("hello")
            .with_id("a.md#0")
            .with_media("https://127.0.0.1/x.png", Some("image/png"))
            .with_meta("source", "a.md");
        let json = serde_json::to_value(&doc).expect("serializes");
        assert_eq!(
            json,
            json!({"id": "a.md#0", "content": [{"text": "hello"},
                {"media": {"url": "https://127.0.0.1/x.png", "contentType": "image/png"}}],
                "metadata": {"source": "a.md"}})
        );
        let back: Document = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, doc);
        let bare: Document =
            serde_json::from_value(json!({"content": [{"text": "q"}]})).expect("no id");
        assert_eq!(bare.text_content(), "q");
    }

    #[test]
    fn typed_metadata_round_trips() {
        #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
        struct Source {
            path: String,
            chunk: u32,
        }
        let source = Source {
            path: "guide.md".into(),
            chunk: 2,
        };
        let doc = Document::text("x").with_metadata(&source).expect("object");
        assert_eq!(doc.metadata_as::<Source>().expect("decodes"), source);
        assert!(Document::text("x").with_metadata(&3).is_err());
    }

    #[test]
    fn the_content_hash_follows_content_and_metadata_but_not_the_id() {
        let doc = Document::text("alpha").with_meta("lang", "en");
        let hash = doc.content_hash();
        assert_eq!(hash.len(), 32);
        assert_eq!(doc.clone().with_id("other").content_hash(), hash);
        assert_ne!(Document::text("alpha").content_hash(), hash);
        assert_ne!(
            Document::text("alphb")
                .with_meta("lang", "en")
                .content_hash(),
            hash
        );
    }

    #[test]
    fn fnv_1a_128_matches_the_reference_vectors() {
        // The hash is persisted by stores: it must stay the specified function.
        let of = |text: &[u8]| {
            let mut hash = Fnv128::default();
            hash.bytes(text);
            format!("{:032x}", hash.0)
        };
        assert_eq!(of(b""), "6c62272e07bb014262b821756295c58d");
        assert_eq!(of(b"a"), "d228cb696f1a8caf78912b704e4a8964");
    }
}
