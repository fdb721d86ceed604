//! What a task's state bits mean. The bit values are the kernel's
//! `#define`s, which no BTF holds; like crash, they are read from the
//! kernel's own table of state names, `task_state_array` ("R (running)",
//! "S (sleeping)", ...: entry `i` > 0 names bit `i - 1`), and the bits past
//! `TASK_PARKED` follow it in the order every kernel since 4.14 has
//! (`TASK_DEAD`, `TASK_WAKEKILL`, `TASK_WAKING`, `TASK_NOLOAD`, `TASK_NEW`).
//! Without the table, the values of Linux 4.14 to 6.x.

/// The state bits of one kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskStates {
    interruptible: u64,
    uninterruptible: u64,
    stopped: u64,
    traced: u64,
    /// `EXIT_DEAD` and `TASK_DEAD`.
    dead: u64,
    zombie: u64,
    parked: u64,
    wakekill: u64,
    waking: u64,
    noload: u64,
    new: u64,
    /// The kernel's letter of each reported state, by bit number + 1 (the
    /// first is `R`), and the mask of reported states (`TASK_REPORT`).
    letters: Vec<char>,
    report: u64,
}

impl Default for TaskStates {
    fn default() -> TaskStates {
        let names = [
            "R (running)",
            "S (sleeping)",
            "D (disk sleep)",
            "T (stopped)",
            "t (tracing stop)",
            "X (dead)",
            "Z (zombie)",
            "P (parked)",
            "I (idle)",
        ];
        TaskStates::from_names(&names.map(String::from)).expect("the default table is complete")
    }
}

impl TaskStates {
    /// From the strings of `task_state_array`, in order. `None` when they
    /// do not name the basic states.
    pub fn from_names(names: &[String]) -> Option<TaskStates> {
        let bit = |i: usize| if i == 0 { 0 } else { 1u64 << (i - 1) };
        let find = |what: &str| names.iter().position(|n| n.contains(what)).map(bit);
        let parked = find("(parked)")?;
        let dead = find("(dead)")?;
        let mut s = TaskStates {
            interruptible: find("(sleeping)")?,
            uninterruptible: find("(disk sleep)")?,
            stopped: find("(stopped)")?,
            traced: find("(tracing stop)").unwrap_or(0),
            dead: dead | parked << 1,
            zombie: find("(zombie)")?,
            parked,
            wakekill: parked << 2,
            waking: parked << 3,
            noload: parked << 4,
            new: parked << 5,
            letters: Vec::new(),
            report: 0,
        };
        if find("(running)") != Some(0) || s.interruptible == 0 {
            return None;
        }
        // The reported states: up to the last of `RSDTtXZP` in the table
        // (the entries after it, `I (idle)`, are not bits).
        let last = names
            .iter()
            .rposition(|n| n.chars().next().is_some_and(|c| "RSDTtXZP".contains(c)))?;
        s.letters = names[..=last]
            .iter()
            .map(|n| n.chars().next().unwrap_or('?'))
            .collect();
        s.report = (1u64 << last) - 1;
        Some(s)
    }

    /// crash's two-letter code (`ps`'s ST column) of `state | exit_state`.
    pub fn code(&self, state: u64, exit_state: u64) -> &'static str {
        let st = state | exit_state;
        let mut out = "??";
        let mut set = false;
        if st == 0 {
            out = "RU";
        }
        if st & self.interruptible != 0 {
            out = "IN";
            set = true;
        }
        if st & self.uninterruptible != 0 {
            out = if st & self.noload != 0 { "ID" } else { "UN" };
            set = true;
        }
        if st & self.zombie != 0 {
            out = "ZO";
            set = true;
        }
        if st & self.stopped != 0 {
            out = "ST";
            set = true;
        }
        if self.traced != 0 && st & self.traced != 0 {
            out = "TR";
            set = true;
        }
        if st & self.dead != 0 && !set {
            out = "DE";
        }
        if st == self.parked {
            out = "PA";
        }
        if st == self.waking {
            out = "WA";
        }
        if st == self.new {
            out = "NE";
        }
        out
    }

    /// crash's long form (`set`, `task`'s STATE): the names of the bits set,
    /// joined by `|`.
    pub fn names(&self, state: u64, exit_state: u64) -> String {
        let st = state | exit_state;
        if st == 0 {
            return "TASK_RUNNING".into();
        }
        if st == self.parked {
            return "TASK_PARKED".into();
        }
        let mut parts: Vec<&str> = Vec::new();
        for (bits, name) in [
            (self.interruptible, "TASK_INTERRUPTIBLE"),
            (self.uninterruptible, "TASK_UNINTERRUPTIBLE"),
            (self.stopped, "TASK_STOPPED"),
            (self.traced, "TASK_TRACED"),
        ] {
            if bits != 0 && st & bits != 0 {
                parts.push(name);
            }
        }
        let dead = st & self.dead;
        if dead != 0 {
            parts.push(if dead.count_ones() > 1 {
                "EXIT_DEAD|TASK_DEAD"
            } else {
                "EXIT_DEAD"
            });
        }
        for (bits, name) in [
            (self.zombie, "EXIT_ZOMBIE"),
            (self.waking, "TASK_WAKING"),
            (self.wakekill, "TASK_WAKEKILL"),
            (self.noload, "TASK_NOLOAD"),
            (self.new, "TASK_NEW"),
        ] {
            if st & bits != 0 {
                parts.push(name);
            }
        }
        parts.join("|")
    }

    /// A zombie: `EXIT_ZOMBIE` set.
    pub fn is_zombie(&self, state: u64, exit_state: u64) -> bool {
        (state | exit_state) & self.zombie != 0
    }

    /// The letter the kernel itself shows (`/proc/PID/stat`, drgn's
    /// `task_state_to_char`): the highest reported state bit, and `I` for
    /// `TASK_IDLE` (uninterruptible with no load).
    pub fn letter(&self, state: u64, exit_state: u64) -> char {
        let st = (state | exit_state) & self.report;
        let idle = self.uninterruptible | self.noload;
        if state & idle == idle {
            return 'I';
        }
        let i = (64 - st.leading_zeros()) as usize;
        self.letters.get(i).copied().unwrap_or('?')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_of_linux_6() {
        let s = TaskStates::default();
        assert_eq!(s.code(0, 0), "RU");
        assert_eq!(s.code(1, 0), "IN");
        assert_eq!(s.code(0x2001, 0), "IN"); // TASK_FREEZABLE | INTERRUPTIBLE
        assert_eq!(s.code(2, 0), "UN");
        assert_eq!(s.code(0x402, 0), "ID");
        assert_eq!(s.code(0x104, 0), "ST");
        assert_eq!(s.code(8, 0), "TR");
        assert_eq!(s.code(0x80, 0x10), "DE");
        assert_eq!(s.code(0, 0x20), "ZO");
        assert_eq!(s.code(0x40, 0), "PA");
        assert_eq!(s.code(0x200, 0), "WA");
        assert_eq!(s.code(0x800, 0), "NE");
        assert_eq!(s.letter(0, 0), 'R');
        assert_eq!(s.letter(0x2001, 0), 'S');
        assert_eq!(s.letter(0x402, 0), 'I');
        assert_eq!(s.letter(2, 0), 'D');
        assert_eq!(s.letter(0, 0x20), 'Z');
        assert_eq!(s.names(0x402, 0), "TASK_UNINTERRUPTIBLE|TASK_NOLOAD");
        assert_eq!(s.names(0, 0), "TASK_RUNNING");
    }

    #[test]
    fn another_order_of_the_table() {
        // A table whose bits are in another order gives other values.
        let names: Vec<String> = [
            "R (running)",
            "D (disk sleep)",
            "S (sleeping)",
            "T (stopped)",
            "X (dead)",
            "Z (zombie)",
            "P (parked)",
        ]
        .map(String::from)
        .to_vec();
        let s = TaskStates::from_names(&names).unwrap();
        assert_eq!(s.code(1, 0), "UN");
        assert_eq!(s.code(2, 0), "IN");
        assert_eq!(s.letter(2, 0), 'S');
        assert!(TaskStates::from_names(&names[1..]).is_none());
    }
}
