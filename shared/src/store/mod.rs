//! Implementations of the `Table` port. Both pass the same contract suite
//! (`shared/tests/store_contract.rs`); nothing above this module knows which one it talks to.
//! Also the `BlobStore` port on a local directory (`blobs`), for `serve`, and the read-only view
//! of a standby region (`standby`).

pub mod blobs;
pub mod dynamodb;
pub mod embedded;
pub mod sealed;
pub mod standby;

pub use blobs::LocalBlobs;
pub use dynamodb::DynamoTable;
pub use embedded::{EmbeddedTable, StreamRecord};
pub use sealed::{DataKey, SealedTable};
pub use standby::{StandbyBlobs, StandbyTable};
