using MorIcl.Construction.Model;

namespace MorIcl.Runtime.Structured;

/// <summary>
/// Lowers every attention head of a model once to a <see cref="HeadPlan"/> (docs/math.md §9). A row is an
/// embedding row at layer l when no layer before l writes it (value rows of attention heads, output
/// and bias rows of MLPs): its value on every token is then the embedding's. The decision per head:
/// <list type="number">
/// <item>keys read only role-constant embedding rows → <see cref="HeadPattern.RoleConstantKeys"/>, no per-prompt check;</item>
/// <item>only Self and single-token keys admitted, and a positional form recognised on every block →
/// <see cref="HeadPattern.AdmittedKeysOnly"/>;</item>
/// <item>keys read only rows that earlier layers write (or role-constant embedding rows) →
/// <see cref="HeadPattern.RoleConstantKeys"/> with the per-prompt check;</item>
/// <item>otherwise <see cref="HeadPattern.Dense"/>.</item>
/// </list>
/// </summary>
internal static class PlanCompiler
{
    public static ExecutionPlan Compile(TransformerModel model)
    {
        var rows = EmbeddingRows.Of(model.Embedding);
        bool positionsOk = rows.PositionsAsDocumented(model.Embedding);
        var written = new bool[model.Dimension];
        var plans = new List<HeadPlan[]>();
        for (int l = 0; l < model.Layers.Count; l++)
        {
            switch (model.Layers[l])
            {
                case AttentionLayer a:
                    var heads = a.Heads.Select((h, i) => PlanHead(model, rows, positionsOk, written, l, i, h)).ToArray();
                    for (int h = 0; h + 1 < heads.Length; h++)
                        if (heads[h].PairedWith < 0 && ReluPair.Of(heads[h], heads[h + 1], a.Heads[h], a.Heads[h + 1])) { heads[h].PairedWith = h + 1; heads[h + 1].PairedWith = h; }
                    plans.Add(heads);
                    foreach (var h in a.Heads) foreach (int r in h.Value.NonZeroRows()) written[r] = true;
                    break;
                case MlpLayer m:
                    plans.Add(Array.Empty<HeadPlan>());
                    foreach (int r in m.W2.NonZeroRows()) written[r] = true;
                    for (int r = 0; r < m.B2.Length; r++) if (m.B2[r] != 0) written[r] = true;
                    break;
                default: throw new InvalidOperationException($"unknown layer type {model.Layers[l].GetType().Name}");
            }
        }
        return new ExecutionPlan(plans, rows, model.Embedding.MaxPosition);
    }

    private static HeadPlan PlanHead(TransformerModel model, EmbeddingRows rows, bool positionsOk, bool[] written, int layer, int index, AttentionHead h)
    {
        var names = model.Layout;
        bool RoleConstantEmbedding(int c) => !written[c] && rows.Kind[c] == EmbeddingRowKind.RoleConstant;
        HeadPlan Make(HeadPattern p, string reason, bool keysConstant = false) => new()
        {
            Layer = layer, Head = index, Name = h.Name, Activation = h.Activation, Pattern = p, Reason = reason,
            Roles = h.Admission.Roles, PositionalDims = h.PositionalDims, KeysAreEmbeddingConstants = keysConstant,
        };
        var keyCols = h.Key.NonZeroCols();
        string keyRows = string.Join(", ", keyCols.Select(names.RowName));
        if (keyCols.All(RoleConstantEmbedding))
            return Make(HeadPattern.RoleConstantKeys, $"keys read only role-constant embedding rows ({keyRows})", keysConstant: true);
        var (admittedOnly, why) = TryAdmittedKeysOnly(model, rows, positionsOk, written, layer, index, h);
        if (admittedOnly is not null) return admittedOnly;
        if (keyCols.All(c => written[c] || RoleConstantEmbedding(c)))
            return Make(HeadPattern.RoleConstantKeys, $"keys read rows earlier layers write ({keyRows}); each prompt checks they are the same on every token of a role");
        var varying = keyCols.First(c => !written[c] && !RoleConstantEmbedding(c));
        return Make(HeadPattern.Dense, $"keys read embedding row {names.RowName(varying)}, which differs between tokens of a role, and {why}");
    }

    /// <summary>The AdmittedKeysOnly plan, or null and the reason it does not apply.</summary>
    private static (HeadPlan? Plan, string Why) TryAdmittedKeysOnly(TransformerModel model, EmbeddingRows rows, bool positionsOk, bool[] written, int layer, int index, AttentionHead h)
    {
        int R = h.Admission.Roles;
        if (h.Activation == Activation.Linear) return (null, "a linear head admits every pair");
        var blocks = new BlockTreatment[R * R];
        for (int qr = 0; qr < R; qr++)
            for (int kr = 0; kr < R; kr++)
            {
                var a = h.Admission[qr, kr];
                if (kr == TokenRoles.Example && a == Admit.Yes) return (null, $"it admits every example key for {TokenRoles.Name(qr, model.Embedding.AuxiliaryNames)} queries");
                blocks[qr * R + kr] = a == Admit.Yes || (a == Admit.Self && qr == kr && kr != TokenRoles.Example) ? BlockTreatment.Formed
                    : a == Admit.Self && qr == kr ? BlockTreatment.SelfFormedRestBounded : BlockTreatment.Bounded;
            }
        if (!positionsOk) return (null, "the embedding's position rows are not the documented digits");
        var coefficients = PositionalCoefficients(model, rows, written, h, out string? bad, out double magnitude, out double partialSums);
        if (coefficients is null) return (null, bad!);
        var forms = new PositionalForm[R * R];
        var distinct = new bool[R * R];
        for (int qr = 0; qr < R; qr++)
            for (int kr = 0; kr < R; kr++)
            {
                var form = Recognise(coefficients.Value.Q, coefficients.Value.K, qr, kr, rows);
                if (form is null)
                    return (null, $"its positional part on ({TokenRoles.Name(qr, model.Embedding.AuxiliaryNames)}, {TokenRoles.Name(kr, model.Embedding.AuxiliaryNames)}) pairs is neither a constant nor c − ρ·Σ(p_d − q_d)²");
                forms[qr * R + kr] = form.Value;
                distinct[qr * R + kr] = (qr != kr && rows.Positioned[qr] && rows.Positioned[kr]) || blocks[qr * R + kr] == BlockTreatment.SelfFormedRestBounded;
            }
        string formed = string.Join(", ", Enumerable.Range(0, R * R).Where(b => blocks[b] != BlockTreatment.Bounded)
            .Select(b => $"{Role(b / R)}→{(blocks[b] == BlockTreatment.SelfFormedRestBounded || b / R == b % R ? "itself" : Role(b % R))}"));
        string Role(int r) => TokenRoles.Name(r, model.Embedding.AuxiliaryNames);
        return (new HeadPlan
        {
            Layer = layer, Head = index, Name = h.Name, Activation = h.Activation, Pattern = HeadPattern.AdmittedKeysOnly, Roles = R,
            Reason = $"admits only {(formed.Length == 0 ? "nothing" : formed)}; every other score is bounded by its positional form plus O(N) content maxima",
            PositionalDims = h.PositionalDims, Forms = forms, Blocks = blocks, DistinctPositions = distinct, PositionalMagnitude = magnitude,
            PositionalPartialSums = partialSums,
        }, "");
    }

    /// <summary>
    /// Per positional dimension a and role r, the coefficients of q_a and k_a on the monomials
    /// [1, p_0 … p_{G−1}, p_0² … p_{G−1}²] (G digits), or null with the reason when a positional
    /// dimension reads a row an earlier layer writes, a content row, or a non-integer weight.
    /// <paramref name="magnitude"/> bounds Σ_a |q_a·k_a| and the projections (every partial sum of |terms|);
    /// <paramref name="partialSums"/> bounds every number the score kernel forms on the positional part
    /// (<see cref="PositionalPrefixBound"/>).
    /// </summary>
    private static (double[][][] Q, double[][][] K)? PositionalCoefficients(TransformerModel model, EmbeddingRows rows, bool[] written, AttentionHead h, out string? bad, out double magnitude, out double partialSums)
    {
        partialSums = 0;
        int P = h.PositionalDims;
        var q = new double[P][][]; var k = new double[P][][];
        var qAbs = new double[P]; var kAbs = new double[P];
        magnitude = 0;
        for (int a = 0; a < P; a++)
        {
            q[a] = Coefficients(model, rows, written, h.Query, a, out bad, out qAbs[a]);
            if (q[a] is null) return null;
            k[a] = Coefficients(model, rows, written, h.Key, a, out bad, out kAbs[a]);
            if (k[a] is null) return null;
        }
        double sum = 0;
        for (int a = 0; a < P; a++) { sum += qAbs[a] * kAbs[a]; magnitude = Math.Max(magnitude, Math.Max(sum, Math.Max(qAbs[a], kAbs[a]))); }
        partialSums = PositionalPrefixBound.Bound(q, k, qAbs, kAbs, rows);
        bad = null;
        return (q, k);
    }

    private static double[][] Coefficients(TransformerModel model, EmbeddingRows rows, bool[] written, SparseMatrix m, int a, out string? bad, out double abs)
    {
        int G = rows.Digits, R = rows.Roles;
        var c = Enumerable.Range(0, R).Select(_ => new double[1 + 2 * G]).ToArray();
        abs = 0; bad = null;
        for (int e = 0; e < m.NonZeros; e++)
        {
            if (m.RowIndex[e] != a) continue;
            int col = m.ColIndex[e];
            double w = m.Values[e];
            if (written[col]) { bad = $"positional dimension {a} reads row {model.Layout.RowName(col)}, which an earlier layer writes"; return null!; }
            if (rows.Kind[col] == EmbeddingRowKind.Content) { bad = $"positional dimension {a} reads the content row {model.Layout.RowName(col)}"; return null!; }
            if (Math.Floor(w) != w) { bad = $"positional dimension {a} weighs row {model.Layout.RowName(col)} by {w:R}, not an integer"; return null!; }
            if (rows.Kind[col] == EmbeddingRowKind.RoleConstant && rows.RoleValue[col]!.Any(v => Math.Floor(v) != v))
            { bad = $"positional dimension {a} reads row {model.Layout.RowName(col)}, whose value on some role is not an integer"; return null!; }
            abs += Math.Abs(w) * rows.MaxAbs[col];
            for (int r = 0; r < R; r++)
            {
                switch (rows.Kind[col])
                {
                    case EmbeddingRowKind.RoleConstant: c[r][0] += w * rows.RoleValue[col]![r]; break;
                    case EmbeddingRowKind.Digit: if (rows.Positioned[r]) c[r][1 + rows.DigitOf[col]] += w; break;
                    case EmbeddingRowKind.DigitSquare: if (rows.Positioned[r]) c[r][1 + G + rows.DigitOf[col]] += w; break;
                }
            }
        }
        return c;
    }

    /// <summary>The block's positional form, from M[m, m'] = Σ_a q_a[qr][m]·k_a[kr][m'], or null.</summary>
    private static PositionalForm? Recognise(double[][][] q, double[][][] k, int qr, int kr, EmbeddingRows rows)
    {
        int G = rows.Digits, M = 1 + 2 * G;
        var m = new double[M, M];
        for (int a = 0; a < q.Length; a++)
            for (int i = 0; i < M; i++)
                for (int j = 0; j < M; j++) m[i, j] += q[a][qr][i] * k[a][kr][j];
        double c = m[0, 0];
        bool constant = true;
        for (int i = 0; i < M; i++) for (int j = 0; j < M; j++) if ((i, j) != (0, 0) && m[i, j] != 0) constant = false;
        if (constant) return new PositionalForm(PositionalFormKind.Constant, c, 0);
        if (!rows.Positioned[qr] || !rows.Positioned[kr]) return null;
        double rho = -m[1 + G, 0];
        if (!(rho > 0)) return null;
        var expected = new double[M, M];
        expected[0, 0] = c;
        for (int d = 0; d < G; d++) { expected[1 + G + d, 0] = -rho; expected[1 + d, 1 + d] = 2 * rho; expected[0, 1 + G + d] = -rho; }
        for (int i = 0; i < M; i++) for (int j = 0; j < M; j++) if (m[i, j] != expected[i, j]) return null;
        return new PositionalForm(PositionalFormKind.Distance, c, rho);
    }
}
