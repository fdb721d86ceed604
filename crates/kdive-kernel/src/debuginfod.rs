//! Debuginfo from debuginfod servers ([`kdive_debuginfod`]), asked only
//! when `DEBUGINFOD_URLS` is set and nothing installed fits: the vmlinux by
//! VMCOREINFO's `BUILD-ID`, a module's debuginfo by the build id it has in
//! memory.

use std::path::PathBuf;
use std::sync::OnceLock;

use kdive_debuginfod::{Artifact, Client, DebuginfodError};

/// The client the environment asks for (`None`: `DEBUGINFOD_URLS` unset),
/// made once.
fn client() -> Result<Option<&'static Client>, DebuginfodError> {
    static CLIENT: OnceLock<Option<Client>> = OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c.as_ref());
    }
    let c = Client::from_env()?;
    Ok(CLIENT.get_or_init(|| c).as_ref())
}

/// The debuginfo of build id `id` (`Ok(None)`: no server to ask).
pub(crate) fn debuginfo(id: &str) -> Result<Option<PathBuf>, DebuginfodError> {
    match client()? {
        Some(c) => c.fetch(id, Artifact::Debuginfo).map(Some),
        None => Ok(None),
    }
}
