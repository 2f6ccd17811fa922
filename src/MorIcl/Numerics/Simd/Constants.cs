namespace MorIcl.Numerics.Simd;

/// <summary>Small integers as types: a kernel's tile shape becomes a type argument, which the JIT folds per instantiation.</summary>
internal interface IConstant { static abstract int Value { get; } }
internal readonly struct N0 : IConstant { public static int Value => 0; }
internal readonly struct N1 : IConstant { public static int Value => 1; }
internal readonly struct N2 : IConstant { public static int Value => 2; }
internal readonly struct N3 : IConstant { public static int Value => 3; }
internal readonly struct N4 : IConstant { public static int Value => 4; }
internal readonly struct N6 : IConstant { public static int Value => 6; }
