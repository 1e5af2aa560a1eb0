#include "lp_solver.h"

#include <ClpSimplex.hpp>
#include <CoinPackedMatrix.hpp>

namespace salcrop {

namespace {
// Clp's own representation of infinity (COIN_DBL_MAX) for unbounded sides.
double finite_or_coin(double v)
{
    if (v == kLpInfinity)
        return COIN_DBL_MAX;
    if (v == -kLpInfinity)
        return -COIN_DBL_MAX;
    return v;
}
}  // namespace

struct LpSession::Impl {
    ClpSimplex model;
    int columns = 0;
};

LpSession::LpSession(const LinearProgram &lp) : impl_(std::make_unique<Impl>())
{
    impl_->columns = lp.columns();
    std::vector<double> col_lo(lp.col_lo), col_hi(lp.col_hi), row_lo(lp.row_lo), row_hi(lp.row_hi);
    for (auto *v : {&col_lo, &col_hi, &row_lo, &row_hi})
        for (double &b : *v)
            b = finite_or_coin(b);
    CoinPackedMatrix matrix(true, lp.entry_row.data(), lp.entry_col.data(), lp.entry_value.data(),
                            CoinBigIndex(lp.entry_value.size()));
    matrix.setDimensions(lp.rows(), lp.columns());  // trailing empty rows or columns count too
    impl_->model.setLogLevel(0);
    impl_->model.messageHandler()->setLogLevel(0);
    impl_->model.loadProblem(matrix, col_lo.data(), col_hi.data(), lp.cost.data(), row_lo.data(), row_hi.data());
}

LpSession::~LpSession() = default;

void LpSession::set_column_bounds(int column, double lo, double hi)
{
    impl_->model.setColumnBounds(column, finite_or_coin(lo), finite_or_coin(hi));
}

LpStatus LpSession::solve()
{
    if (impl_->columns == 0)
        return LpStatus::Optimal;
    impl_->model.dual();
    const int status = impl_->model.status();
    return status == 0 ? LpStatus::Optimal : status == 1 ? LpStatus::Infeasible : LpStatus::Failed;
}

double LpSession::objective() const
{
    return impl_->model.objectiveValue();
}

std::vector<double> LpSession::solution() const
{
    const double *sol = impl_->model.primalColumnSolution();
    return std::vector<double>(sol, sol + impl_->columns);
}

LpStatus solve_lp(const LinearProgram &lp, std::vector<double> *x, double *objective)
{
    if (objective)
        *objective = 0;
    LpSession session(lp);
    const LpStatus status = session.solve();
    if (status != LpStatus::Optimal)
        return status;
    *x = session.solution();
    if (objective && lp.columns() > 0)
        *objective = session.objective();
    return LpStatus::Optimal;
}

}  // namespace salcrop
