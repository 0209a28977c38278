using Pilotage.Core.DataBoundary;

namespace Pilotage.Core.Import;

/// <summary>
/// The system's data boundary over an evidence file before anything of it is stored: the evidence store never
/// holds what the gateway would not have let through. A blocking hit refuses its row, with the row and column
/// named (and the detector, never the value); a redacting hit is stored redacted. The <c>user</c> column names
/// the person who used the system and is not content, so it is left as it is.
/// </summary>
public static class EvidenceFileBoundary
{
    /// <summary>The file with its blocked rows refused (their errors added in file order) and the rest redacted.</summary>
    public static EvidenceFile Apply(EvidenceFile file, DataBoundaryPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.IsEmpty || file.Records.Count == 0)
        {
            return file;
        }
        var errors = new List<ImportError>();
        var records = new List<EvidenceRecord>(file.Records.Count);
        foreach (var record in file.Records)
        {
            if (Check(record, policy, errors) is { } kept) records.Add(kept);
        }
        if (errors.Count == 0) return file with { Records = records };
        var merged = file.Errors.Concat(errors).OrderBy(e => e.Row == 0 ? int.MaxValue : e.Row).Take(EvidenceCsv.MaxErrorsListed).ToList();
        return file with { Records = records, Errors = merged, Rejected = file.Rejected + file.Records.Count - records.Count };
    }

    /// <summary>The row as it may be stored (redacted), or null when the boundary refuses it; its errors go to <paramref name="errors"/>.</summary>
    public static EvidenceRecord? Check(EvidenceRecord record, DataBoundaryPolicy policy, List<ImportError> errors)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(errors);
        if (policy.IsEmpty) return record;
        var before = errors.Count;
        var budget = policy.HasTimedPatterns ? new BoundaryBudget(BoundaryBudget.DefaultLimit) : null;
        var prompt = Scan(record.Prompt, "prompt");
        var answer = Scan(record.Answer, "answer");
        var finalText = record.FinalText is null ? null : Scan(record.FinalText, "final_text");
        var category = record.Category is null ? null : Scan(record.Category, "category");
        return errors.Count != before ? null : record with { Prompt = prompt, Answer = answer, FinalText = finalText, Category = category };

        string Scan(string text, string column)
        {
            BoundaryResult result;
            try
            {
                result = policy.Apply(text, budget);
            }
            catch (BoundaryBudgetExceededException e)
            {
                errors.Add(new ImportError(record.Row, column, $"the data boundary's custom patterns ran out of time ({e.Detector}); the row could not be checked, so it is refused"));
                return text;
            }
            if (result.Blocked)
            {
                errors.Add(new ImportError(record.Row, column,
                    $"holds data the system's data boundary blocks ({string.Join(", ", result.BlockedBy)}); the row is refused, remove that data from it"));
            }
            return result.Text;
        }
    }
}
