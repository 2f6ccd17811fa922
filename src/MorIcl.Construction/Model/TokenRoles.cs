using System;
using System.Linq;

namespace MorIcl.Construction.Model
{
    /// <summary>
    /// Roles of tokens, as integers: 0 = example (t = 1), 1 = query (t = 0), 2 + a = auxiliary token a
    /// (a component token, or the symmetric program's "minus" token).
    /// </summary>
    public static class TokenRoles
    {
        public const int Example = 0;
        public const int Query = 1;
        public static int Auxiliary(int a) => 2 + a;
        public static int Count(int auxiliaryTokens) => 2 + auxiliaryTokens;

        public static string Name(int role, string[] auxiliaryNames) =>
            role == Example ? "example" : role == Query ? "query" : auxiliaryNames[role - 2];
    }

    /// <summary>Whether key j is admitted for query i, by their roles.</summary>
    public enum Admit : byte
    {
        /// <summary>Never admitted: its score must stay below the admitted ones by the margin.</summary>
        No = 0,
        /// <summary>Always admitted.</summary>
        Yes = 1,
        /// <summary>Admitted only when j = i (the token itself).</summary>
        Self = 2,
    }

    /// <summary>
    /// A head's admission table: which (query role, key role) pairs carry the intended computation.
    /// The exactness domain of a head is stated in terms of it: a ReLU head is exact when every
    /// non-admitted score is ≤ 0 (margin = min −score); a softmax head's error is the weight leaking to
    /// non-admitted keys (≤ N e^{−margin}, margin = max admitted score − max non-admitted score). A linear
    /// head has neither, so it must admit every pair.
    /// </summary>
    public sealed class Admission : IEquatable<Admission>
    {
        /// <summary>[queryRole * Roles + keyRole].</summary>
        public Admit[] Table { get; }
        public int Roles { get; }

        public Admission(int roles, Admit[] table)
        {
            if (table.Length != roles * roles) throw new ArgumentException("admission table must be roles x roles");
            Roles = roles; Table = table;
        }

        public Admit this[int queryRole, int keyRole] => Table[queryRole * Roles + keyRole];

        public static Admission All(int roles) => new Admission(roles, Enumerable.Repeat(Admit.Yes, roles * roles).ToArray());

        /// <summary>True when every pair is admitted (no margin to check).</summary>
        public bool AdmitsAll => Table.All(a => a == Admit.Yes);

        public static Admission Build(int roles, Func<int, int, Admit> rule)
        {
            var t = new Admit[roles * roles];
            for (int q = 0; q < roles; q++)
                for (int k = 0; k < roles; k++) t[q * roles + k] = rule(q, k);
            return new Admission(roles, t);
        }

        public bool Equals(Admission? other) => other is not null && other.Roles == Roles && other.Table.SequenceEqual(Table);
        public override bool Equals(object? obj) => obj is Admission a && Equals(a);
        public override int GetHashCode() => Table.Aggregate(Roles, (h, a) => h * 3 + (int)a);
    }
}
