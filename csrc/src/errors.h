// Error kinds of the core. OptionError is a user mistake in an option (ValueError in Python, the message
// names the option and what is allowed); everything else is a std::runtime_error (model, provider, I/O).
#pragma once

#include <stdexcept>
#include <string>

namespace salcrop {

struct OptionError : std::invalid_argument {
    explicit OptionError(const std::string &what) : std::invalid_argument(what) {}
};

}  // namespace salcrop
