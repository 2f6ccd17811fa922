namespace MorIcl.Construction.Operators
{
    /// <summary>A coefficient times one residual row: a building block of linear read-outs.</summary>
    public readonly struct Term
    {
        public int Row { get; }
        public double Coefficient { get; }
        public Term(int row, double coefficient) { Row = row; Coefficient = coefficient; }
        public static Term Of(int row, double coefficient = 1) => new Term(row, coefficient);
    }
}
