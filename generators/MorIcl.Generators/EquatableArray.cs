using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;

namespace MorIcl.Generators
{
    /// <summary>An immutable array with value equality, for the generator's cached models.</summary>
    internal readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IEnumerable<T> where T : IEquatable<T>
    {
        private readonly T[]? _items;
        public EquatableArray(T[] items) { _items = items; }
        public int Length => _items?.Length ?? 0;
        public T this[int i] => _items![i];
        public T[] ToArray() => _items is null ? new T[0] : (T[])_items.Clone();
        public bool Equals(EquatableArray<T> other) => (_items ?? new T[0]).SequenceEqual(other._items ?? new T[0]);
        public override bool Equals(object? obj) => obj is EquatableArray<T> a && Equals(a);
        public override int GetHashCode()
        {
            unchecked
            {
                int h = 17;
                if (_items != null) foreach (var x in _items) h = h * 31 + (x?.GetHashCode() ?? 0);
                return h;
            }
        }
        public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)(_items ?? new T[0])).GetEnumerator();
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
