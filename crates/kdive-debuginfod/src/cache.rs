//! Where downloaded files are kept: elfutils' cache, so that kdive, gdb
//! and the other clients of libdebuginfod share what they fetched.

use std::ffi::OsString;
use std::path::PathBuf;

/// `$DEBUGINFOD_CACHE_PATH`, else `$XDG_CACHE_HOME/debuginfod_client`,
/// else `$HOME/.cache/debuginfod_client`; `None` with none of them set.
pub fn cache_dir() -> Option<PathBuf> {
    cache_dir_from(|name| std::env::var_os(name))
}

/// [`cache_dir`] with the environment read through `env`.
fn cache_dir_from(env: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let var = |name| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("DEBUGINFOD_CACHE_PATH")
        .or_else(|| var("XDG_CACHE_HOME").map(|x| x.join("debuginfod_client")))
        .or_else(|| var("HOME").map(|h| h.join(".cache/debuginfod_client")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(vars: &[(&str, &str)]) -> Option<PathBuf> {
        cache_dir_from(|n| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn the_order_elfutils_uses() {
        let all = [
            ("DEBUGINFOD_CACHE_PATH", "/c"),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(dir(&all), Some(PathBuf::from("/c")));
        assert_eq!(dir(&all[1..]), Some(PathBuf::from("/x/debuginfod_client")));
        assert_eq!(
            dir(&all[2..]),
            Some(PathBuf::from("/h/.cache/debuginfod_client"))
        );
        assert_eq!(
            dir(&[("DEBUGINFOD_CACHE_PATH", ""), ("HOME", "/h")]),
            Some(PathBuf::from("/h/.cache/debuginfod_client"))
        );
        assert_eq!(dir(&[]), None);
    }
}
