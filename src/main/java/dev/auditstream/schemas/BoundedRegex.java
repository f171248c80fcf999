package dev.auditstream.schemas;

import java.util.regex.Pattern;

import com.networknt.schema.regex.RegularExpression;
import com.networknt.schema.regex.RegularExpressionFactory;

/**
 * The {@code pattern} keyword with java.util.regex under a step budget. A schema's pattern runs against what
 * clients send, on the request's thread, and one that backtracks catastrophically ({@code ^(.*a){12}$} on 60 a's
 * and a "!") would hold that thread for hours. (java.util.regex memoizes simple nested loops such as {@code (a+)+},
 * not bounded repetition or back-references.) A match that reads more characters than the budget allows counts as
 * no match, so the event is refused as not fitting the schema.
 */
final class BoundedRegex implements RegularExpressionFactory {

    static final BoundedRegex INSTANCE = new BoundedRegex();

    /** Character reads per match: a linear pattern on a 500-character metadata value needs a few thousand. */
    private static final int MAX_READS = 1_000_000;

    @Override
    public RegularExpression getRegularExpression(String regex) {
        Pattern pattern = Pattern.compile(regex);
        return value -> {
            try {
                // find(), not matches(): JSON Schema patterns are not anchored
                return pattern.matcher(new Budgeted(value, new int[] {MAX_READS})).find();
            } catch (BudgetExhausted e) {
                return false;
            }
        };
    }

    /** The value, counting reads against a budget shared with its subsequences. */
    private record Budgeted(CharSequence text, int[] left) implements CharSequence {

        @Override
        public char charAt(int index) {
            if (--left[0] < 0) {
                throw new BudgetExhausted();
            }
            return text.charAt(index);
        }

        @Override
        public int length() {
            return text.length();
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return new Budgeted(text.subSequence(start, end), left);
        }

        @Override
        public String toString() {
            return text.toString();
        }
    }

    private static final class BudgetExhausted extends RuntimeException {
        BudgetExhausted() {
            super(null, null, false, false);
        }
    }
}
