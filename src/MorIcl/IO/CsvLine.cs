using System.Text;

namespace MorIcl.IO;

/// <summary>One CSV line split into fields (RFC 4180): commas separate, a field in double quotes may hold commas, and "" inside quotes is one quote.</summary>
public static class CsvLine
{
    public static string[] Split(string line, string source, int lineNumber)
    {
        if (line.IndexOf('"') < 0) return line.Split(',');
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c != '"') field.Append(c);
                else if (i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else quoted = false;
            }
            else if (c == '"' && field.ToString().Trim().Length == 0) { field.Clear(); quoted = true; }
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }
        if (quoted) throw new InputException($"{source}:{lineNumber}: a quoted field is not closed (fields spanning lines are not supported)");
        fields.Add(field.ToString());
        return fields.ToArray();
    }
}
