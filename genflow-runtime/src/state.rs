//! Application state handed to flows and tools without globals.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex, PoisonError};

/// Shared application state of type `T`, taken as a flow or tool parameter:
/// `async fn f(db: State<Db>, input: In)`.
///
/// The registry checks at build time that every `State<T>` a registered action takes was
/// provided with [`RegistryBuilder::state`](crate::RegistryBuilder::state).
pub struct State<T>(pub Arc<T>);

impl<T> Deref for State<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Clone for State<T> {
    fn clone(&self) -> Self {
        State(Arc::clone(&self.0))
    }
}

type Values = HashMap<TypeId, Arc<dyn Any + Send + Sync>>;

/// A map from type to one shared value of that type.
///
/// Besides the values stored, it keeps the defaults made on first use
/// ([`StateMap::get_or_init`]), shared by every clone: a registry's contexts share one.
#[derive(Clone, Default)]
pub struct StateMap {
    values: Values,
    defaults: Arc<Mutex<Values>>,
}

impl StateMap {
    /// Stores `value`, replacing any earlier value of the same type.
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        self.insert_arc(Arc::new(value));
    }

    /// Stores an already shared value.
    pub fn insert_arc<T: Send + Sync + 'static>(&mut self, value: Arc<T>) {
        self.values.insert(TypeId::of::<T>(), value);
    }

    /// The value of type `T`, if one was stored.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.values
            .get(&TypeId::of::<T>())
            .and_then(|v| Arc::clone(v).downcast::<T>().ok())
    }

    /// The value of type `T`: the stored one, else the default `init` made on the first call
    /// (once per map and its clones).
    pub fn get_or_init<T: Send + Sync + 'static>(&self, init: impl FnOnce() -> T) -> Arc<T> {
        if let Some(value) = self.get::<T>() {
            return value;
        }
        let mut defaults = self.defaults.lock().unwrap_or_else(PoisonError::into_inner);
        let value = defaults
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(init()));
        match Arc::clone(value).downcast::<T>() {
            Ok(value) => value,
            // The entry of `T`'s id always holds a `T`.
            Err(_) => unreachable!("the default of a type is of that type"),
        }
    }

    /// Whether a value of the given type was stored.
    pub fn contains(&self, type_id: TypeId) -> bool {
        self.values.contains_key(&type_id)
    }
}

impl std::fmt::Debug for StateMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateMap")
            .field("len", &self.values.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_is_made_once_and_shared_by_clones_but_a_stored_value_wins() {
        let mut made = 0;
        let map = StateMap::default();
        let clone = map.clone();
        let first = map.get_or_init(|| {
            made += 1;
            7_u32
        });
        let again = clone.get_or_init(|| 8_u32);
        assert_eq!((*first, *again, made), (7, 7, 1));
        let mut stored = StateMap::default();
        stored.insert(9_u32);
        assert_eq!(*stored.get_or_init(|| 10_u32), 9);
    }
}
