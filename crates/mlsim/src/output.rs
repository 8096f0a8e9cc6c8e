//! Standard output that ends quietly when its reader goes away (`mlsim list gpus | head -1`).
//!
//! Every line goes through [`out!`], which returns the write's `io::Result`; `?` carries a
//! closed pipe up to `main`, which then exits with status 0 and no message. Finished runs are
//! saved before anything is printed about them, so nothing is lost.

/// `writeln!` to standard output, returning the write's result.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}
pub(crate) use out;

/// Whether `e` is, or was caused by, a write to a closed pipe.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
