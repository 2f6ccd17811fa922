using System.Numerics;
using BenchmarkDotNet.Attributes;
using MorIcl.Construction.Model;
using MorIcl.Runtime.Kernels;

namespace MorIcl.Benchmarks;

/// <summary>
/// The attention products alone: for every head of the model (its dk and dv), the register-tiled score
/// kernel over all N query rows and the value kernel over every row, dense, on random data, one core —
/// exactly the 2·N²·(dk + dv) per head that <see cref="FlopCount"/> counts as attention products
/// (keys packed per head as the executor does, when Vector512 is available).
/// </summary>
public partial class ConstructedForwardBenchmarks
{
    private (int Dk, int Dv)[] _heads = null!;
    private readonly Dictionary<int, KernelData<double>> _kernelDouble = new();
    private readonly Dictionary<int, KernelData<float>> _kernelFloat = new();

    private void SetupKernels()
    {
        _heads = Model.Layers.OfType<AttentionLayer>().SelectMany(a => a.Heads)
            .Select(h => (h.HeadDimension, h.Value.NonZeroRows().Length)).ToArray();
        int maxDk = _heads.Max(h => h.Dk), maxDv = _heads.Max(h => h.Dv);
        foreach (int n in Sizes)
        {
            int tokens = Model.Embedding.TokenCount(n);
            _kernelDouble[n] = new KernelData<double>(tokens, maxDk, maxDv, 5);
            _kernelFloat[n] = new KernelData<float>(tokens, maxDk, maxDv, 6);
        }
    }

    [Benchmark, Arguments(200), Arguments(256), Arguments(512)]
    public double AttentionProductsDouble1Core(int n) => _kernelDouble[n].Run(_heads);

    [Benchmark, Arguments(200), Arguments(256), Arguments(512)]
    public float AttentionProductsFloat1Core(int n) => _kernelFloat[n].Run(_heads);

    private sealed class KernelData<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly int _n, _ld;
        private readonly T[] _q, _k, _kp, _v, _s, _o;
        private readonly bool _packed = AttentionKernels.PackedSupported<T>();
        private static readonly int[] Rows = { 0, 1, 2, 3 };

        public KernelData(int tokens, int maxDk, int maxDv, int seed)
        {
            _n = tokens; _ld = AttentionKernels.Padded<T>(tokens);
            var rng = new Random(seed);
            T Draw() => T.CreateChecked(rng.NextDouble() * 2 - 1);
            _q = new T[maxDk * _ld]; _k = new T[maxDk * _ld]; _v = new T[maxDv * _ld];
            for (int a = 0; a < maxDk; a++)
                for (int j = 0; j < tokens; j++) { _q[a * _ld + j] = Draw(); _k[a * _ld + j] = Draw(); }
            for (int a = 0; a < maxDv; a++)
                for (int j = 0; j < tokens; j++) _v[a * _ld + j] = Draw() / T.CreateChecked(tokens);
            _s = new T[AttentionKernels.RowTile * _ld];
            _kp = new T[maxDk * _ld];
            _o = new T[AttentionKernels.RowTile * maxDv];
        }

        public T Run((int Dk, int Dv)[] heads)
        {
            T check = T.Zero;
            foreach (var (dk, dv) in heads)
            {
                if (_packed) AttentionKernels.PackKeys<T>(_k, _ld, dk, _ld, _kp);   // as the executor does, once per head
                for (int i0 = 0; i0 < _n; i0 += AttentionKernels.RowTile)
                {
                    if (_packed) AttentionKernels.ScoresPacked<T>(_q, _ld, i0, _kp, dk, _ld, _s, _ld);
                    else AttentionKernels.Scores<T>(_q, _ld, i0, _k, _ld, dk, _ld, _s, _ld);
                    AttentionKernels.WeightedSums<T>(_s, _ld, Rows, _v, _ld, dv, _ld, _o, dv);
                }
                check += _o[0];
            }
            return check;
        }
    }
}
