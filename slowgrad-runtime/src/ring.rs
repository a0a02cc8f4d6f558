//! A small bounded store for per-thread caches: entries are searched linearly, and when it is
//! full the oldest entry is replaced.

/// At most `CAPACITY` entries; inserting into a full ring replaces the oldest.
pub(crate) struct Ring<E, const CAPACITY: usize> {
    entries: Vec<E>,
    next: usize,
}

impl<E, const CAPACITY: usize> Default for Ring<E, CAPACITY> {
    fn default() -> Self {
        Ring { entries: Vec::new(), next: 0 }
    }
}

impl<E, const CAPACITY: usize> Ring<E, CAPACITY> {
    /// The first entry matching `pred`.
    pub(crate) fn find(&self, pred: impl FnMut(&&E) -> bool) -> Option<&E> {
        self.entries.iter().find(pred)
    }

    /// Adds `entry`, replacing the oldest one when full.
    pub(crate) fn insert(&mut self, entry: E) {
        if self.entries.len() < CAPACITY {
            self.entries.push(entry);
        } else {
            self.entries[self.next] = entry;
            self.next = (self.next + 1) % CAPACITY;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ring;

    #[test]
    fn replaces_the_oldest_when_full() {
        let mut r: Ring<u32, 2> = Ring::default();
        r.insert(1);
        r.insert(2);
        r.insert(3);
        assert!(r.find(|&&e| e == 1).is_none());
        assert!(r.find(|&&e| e == 2).is_some() && r.find(|&&e| e == 3).is_some());
        r.insert(4);
        assert!(r.find(|&&e| e == 2).is_none());
    }
}
