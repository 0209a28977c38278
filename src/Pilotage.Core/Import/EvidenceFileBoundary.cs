using Pilotage.Core.DataBoundary;

namespace Pilotage.Core.Import;

/// <summary>
/// The system's data boundary over an evidence file before anything of it is stored: the evidence store never
/// holds what the gateway would not have let through. A blocking hit refuses the file with the row and column
/// named (and the detector, never the value); a redacting hit is stored redacted. The <c>user</c> column names
/// the person who used the system and is not content, so it is left as it is.
/// </summary>
public static class EvidenceFileBoundary
{
    public static EvidenceFile Apply(EvidenceFile file, DataBoundaryPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.IsEmpty || !file.IsValid)
        {
            return file;
        }
        var errors = new List<ImportError>();
        var records = new List<EvidenceRecord>(file.Records.Count);
        foreach (var record in file.Records)
        {
            var budget = policy.HasTimedPatterns ? new BoundaryBudget(BoundaryBudget.DefaultLimit) : null;
            var prompt = Scan(record.Prompt, "prompt");
            var answer = Scan(record.Answer, "answer");
            var finalText = record.FinalText is null ? null : Scan(record.FinalText, "final_text");
            var category = record.Category is null ? null : Scan(record.Category, "category");
            records.Add(record with { Prompt = prompt, Answer = answer, FinalText = finalText, Category = category });

            string Scan(string text, string column)
            {
                BoundaryResult result;
                try
                {
                    result = policy.Apply(text, budget);
                }
                catch (BoundaryBudgetExceededException e)
                {
                    Add(new ImportError(record.Row, column, $"the data boundary's custom patterns ran out of time ({e.Detector}); the row could not be checked, so it is refused"));
                    return text;
                }
                if (result.Blocked)
                {
                    Add(new ImportError(record.Row, column,
                        $"holds data the system's data boundary blocks ({string.Join(", ", result.BlockedBy)}); remove it from the file. Nothing was imported"));
                }
                return result.Text;
            }
        }
        return errors.Count == 0
            ? file with { Records = records }
            : file with { Records = [], Errors = errors };

        void Add(ImportError error)
        {
            if (errors.Count < EvidenceCsv.MaxErrorsListed)
            {
                errors.Add(error);
            }
        }
    }
}
