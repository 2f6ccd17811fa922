using System;
using System.Collections.Generic;
using System.Linq;

namespace MorIcl.Construction.Model
{
    /// <summary>A named block of consecutive residual-stream rows (e.g. <c>beta[1]</c>, d rows).</summary>
    public sealed class LayoutBlock
    {
        public string Name { get; }
        public int Start { get; }
        public int Width { get; }
        public string Description { get; }

        public LayoutBlock(string name, int start, int width, string description)
        {
            Name = name; Start = start; Width = width; Description = description;
        }

        public int this[int offset] => offset >= 0 && offset < Width ? Start + offset : throw new ArgumentOutOfRangeException(nameof(offset), $"{Name} has {Width} rows");
        public int Row => Width == 1 ? Start : throw new InvalidOperationException($"{Name} has {Width} rows, not one");

        /// <summary>Name of one row: the block name, or name[offset] for wide blocks.</summary>
        public string RowName(int offset) => Width == 1 ? Name : $"{Name}[{offset}]";
    }

    /// <summary>
    /// The residual stream's rows, each with a name, allocated by the compiler (programs never
    /// hand-number rows). Token h_i is a column of D numbers; rows are grouped into named blocks.
    /// </summary>
    public sealed class ResidualLayout
    {
        private readonly List<LayoutBlock> _blocks = new List<LayoutBlock>();
        private readonly Dictionary<string, LayoutBlock> _byName = new Dictionary<string, LayoutBlock>(StringComparer.Ordinal);

        public IReadOnlyList<LayoutBlock> Blocks => _blocks;
        public int Dimension { get; private set; }

        public LayoutBlock Allocate(string name, int width, string description)
        {
            if (width < 1) throw new ArgumentOutOfRangeException(nameof(width));
            if (_byName.ContainsKey(name)) throw new InvalidOperationException($"layout block '{name}' allocated twice");
            var b = new LayoutBlock(name, Dimension, width, description);
            _blocks.Add(b);
            _byName.Add(name, b);
            Dimension += width;
            return b;
        }

        public LayoutBlock this[string name] => _byName.TryGetValue(name, out var b) ? b : throw new KeyNotFoundException($"no layout block '{name}'");
        public bool Contains(string name) => _byName.ContainsKey(name);

        /// <summary>The name of residual row <paramref name="row"/>.</summary>
        public string RowName(int row)
        {
            foreach (var b in _blocks)
                if (row >= b.Start && row < b.Start + b.Width) return b.RowName(row - b.Start);
            throw new ArgumentOutOfRangeException(nameof(row));
        }

        public string[] RowNames() => Enumerable.Range(0, Dimension).Select(RowName).ToArray();
    }
}
