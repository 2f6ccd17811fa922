using Spectre.Console;
using Spectre.Console.Rendering;

namespace MorIcl.Cli.Commands;

/// <summary>
/// The one progress display of every command: description, bar, percentage, and "elapsed · ETA".
/// Long computations report through it; a command that prints JSON on stdout draws it on stderr
/// (<see cref="CliContext.ErrConsole"/>).
/// </summary>
internal static class ProgressBars
{
    public static Progress Create(IAnsiConsole console, bool autoClear = false) =>
        console.Progress().AutoClear(autoClear).HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TimeColumn());

    /// <summary>Runs <paramref name="work"/> with one bar of <paramref name="steps"/> steps; <c>report(done, description)</c> moves it.</summary>
    public static T Run<T>(IAnsiConsole console, string label, double steps, Func<Action<double, string?>, T> work, bool autoClear = true)
    {
        T result = default!;
        Create(console, autoClear).Start(p =>
        {
            var task = p.AddTask(Markup.Escape(label), maxValue: Math.Max(steps, 1e-9));
            result = work((done, description) =>
            {
                task.Value = Math.Min(done, task.MaxValue);
                if (description is not null) task.Description = Markup.Escape(description);
            });
            task.Value = task.MaxValue;
        });
        return result;
    }

    /// <summary>"00:12 elapsed · ETA 00:34" (the ETA once the rate is known).</summary>
    private sealed class TimeColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            string elapsed = Format(task.ElapsedTime ?? TimeSpan.Zero);
            string eta = task.IsFinished ? "done" : task.RemainingTime is { } r && r < TimeSpan.FromDays(100) ? "ETA " + Format(r) : "ETA --:--";
            return new Text($"{elapsed} elapsed · {eta}", new Style(Color.Grey));
        }

        private static string Format(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}" : $"{t.Minutes:00}:{t.Seconds:00}";
    }
}
