//! Implementations of the `Table` port. Both pass the same contract suite
//! (`shared/tests/store_contract.rs`); nothing above this module knows which one it talks to.
//! Also the `BlobStore` port on a local directory (`blobs`), for `serve`.

pub mod blobs;
pub mod dynamodb;
pub mod embedded;
pub mod sealed;

pub use blobs::LocalBlobs;
pub use dynamodb::DynamoTable;
pub use embedded::{EmbeddedTable, StreamRecord};
pub use sealed::{DataKey, SealedTable};
