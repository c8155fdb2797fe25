//! The label set of the action families.

use prometheus_client::encoding::EncodeLabelSet;

/// `kind`, `name` and `status` of an action run.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ActionLabels {
    pub(super) kind: &'static str,
    pub(super) name: &'static str,
    pub(super) status: &'static str,
}
