// A linear program as plain arrays, and the one call that hands it to a solver (COIN-OR Clp). The planner
// builds its problems with LinearProgram alone, so their construction is testable without any solver.
#pragma once

#include <limits>
#include <memory>
#include <utility>
#include <vector>

namespace salcrop {

constexpr double kLpInfinity = std::numeric_limits<double>::infinity();

// minimize cost . x  subject to  row_lo <= A x <= row_hi,  col_lo <= x <= col_hi.
struct LinearProgram {
    std::vector<double> cost, col_lo, col_hi;
    std::vector<double> row_lo, row_hi;
    // A in triplets (row, column, value).
    std::vector<int> entry_row, entry_col;
    std::vector<double> entry_value;

    int columns() const { return int(cost.size()); }
    int rows() const { return int(row_lo.size()); }
    int add_column(double c, double lo, double hi)
    {
        cost.push_back(c);
        col_lo.push_back(lo);
        col_hi.push_back(hi);
        return columns() - 1;
    }
    int add_row(double lo, double hi, const std::vector<std::pair<int, double>> &entries)
    {
        const int r = rows();
        row_lo.push_back(lo);
        row_hi.push_back(hi);
        for (const auto &[col, value] : entries) {
            entry_row.push_back(r);
            entry_col.push_back(col);
            entry_value.push_back(value);
        }
        return r;
    }
};

enum class LpStatus { Optimal, Infeasible, Failed };

// A loaded problem that can be solved again after its columns' bounds change, warm from the last basis (the
// dual simplex's strength: a few pivots instead of a fresh solve).
class LpSession {
public:
    explicit LpSession(const LinearProgram &lp);
    ~LpSession();
    LpSession(const LpSession &) = delete;
    LpSession &operator=(const LpSession &) = delete;

    void set_column_bounds(int column, double lo, double hi);
    LpStatus solve();
    double objective() const;
    // The columns' values after an Optimal solve.
    std::vector<double> solution() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Solves with Clp's dual simplex; *x receives the columns' values and *objective (when given) the cost when
// Optimal.
LpStatus solve_lp(const LinearProgram &lp, std::vector<double> *x, double *objective = nullptr);

}  // namespace salcrop
